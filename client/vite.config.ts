import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

/** `npm run dev -w @tandem/client` serves the UI with hot reload and forwards API and sync to the server. */
const SERVER_ORIGIN = 'http://localhost:1234'

export default defineConfig({
  plugins: [react()],
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
