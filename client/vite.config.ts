import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'
import { VitePWA } from 'vite-plugin-pwa'

/** `npm run dev -w @tandem/client` serves the UI with hot reload and forwards API and sync to the server. */
const SERVER_ORIGIN = 'http://localhost:1234'

/**
 * Paths that are the server's, never the app's: a navigation to them must reach the network, not
 * get index.html from the service worker.
 */
const SERVER_PATHS = [/^\/api\//, /^\/ws(\/|$)/, /^\/healthz$/, /^\/readyz$/]

export default defineConfig({
  plugins: [
    react(),
    // The app shell offline (SPEC R12): a service worker that precaches the built files, so a
    // document page opens, and reloads, without a network. It caches nothing else: no API answer,
    // event stream or document content ever goes into Cache Storage — a revoked link must find
    // nothing there. The document itself comes from IndexedDB (offline/localReplica.ts).
    VitePWA({
      strategies: 'generateSW',
      registerType: 'autoUpdate',
      // main.tsx registers it (offline/serviceWorker.ts).
      injectRegister: false,
      manifest: {
        name: 'Tandem',
        short_name: 'Tandem',
        description: 'Tandem: a collaborative rich-text editor',
        start_url: '/',
        display: 'standalone',
        background_color: '#f6f8fa',
        theme_color: '#1f6feb',
        icons: [{ src: '/favicon.svg', sizes: 'any', type: 'image/svg+xml' }],
      },
      workbox: {
        // Page routes (`/`, `/d/<id>`, `/v/<id>`) are client-side: every navigation gets the app.
        navigateFallback: '/index.html',
        navigateFallbackDenylist: SERVER_PATHS,
        // Nothing at runtime: requests the precache does not hold go to the network untouched.
        runtimeCaching: [],
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The lazily loaded editor chunk is Tiptap + ProseMirror + Yjs, ~525 kB (~170 kB gzipped).
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      '/api': SERVER_ORIGIN,
      '/ws': { target: SERVER_ORIGIN, ws: true },
    },
  },
})
