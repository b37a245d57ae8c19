import { lazy, StrictMode, Suspense } from 'react'
import { createRoot } from 'react-dom/client'
import { registerAppShell } from './offline/serviceWorker.ts'
import { Home } from './pages/Home.tsx'
import { NotFound } from './pages/NotFound.tsx'
import { routeFromPath, type Route } from './route.ts'
import './styles.css'

// The editor (Tiptap, ProseMirror, Yjs) is most of the bundle; the home page should not wait for it.
const EditorPage = lazy(async () => ({ default: (await import('./pages/documentPages.ts')).EditorPage }))
const ViewerPage = lazy(async () => ({ default: (await import('./pages/documentPages.ts')).ViewerPage }))

function Page({ route }: { route: Route }) {
  switch (route.kind) {
    case 'home':
      return <Home />
    case 'editor':
      return (
        <Suspense fallback={<div className="editor-page" aria-busy="true" />}>
          <EditorPage key={route.docId} docId={route.docId} />
        </Suspense>
      )
    case 'viewer':
      return (
        <Suspense fallback={<div className="editor-page" aria-busy="true" />}>
          <ViewerPage key={route.docId} docId={route.docId} />
        </Suspense>
      )
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
registerAppShell()
