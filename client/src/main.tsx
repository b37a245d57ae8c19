import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { EditorPage } from './pages/EditorPage.tsx'
import { Home } from './pages/Home.tsx'
import { NotFound } from './pages/NotFound.tsx'
import { routeFromPath, type Route } from './route.ts'
import './styles.css'

function Page({ route }: { route: Route }) {
  switch (route.kind) {
    case 'home':
      return <Home />
    case 'editor':
      return <EditorPage key={route.docId} docId={route.docId} />
    case 'notFound':
      return <NotFound />
  }
}

const root = document.getElementById('root')
if (!root) throw new Error('index.html has no #root element')
createRoot(root).render(
  <StrictMode>
    <Page route={routeFromPath(window.location.pathname)} />
  </StrictMode>,
)
