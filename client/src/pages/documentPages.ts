/**
 * The two document pages as one lazily loaded chunk: both are mostly Tiptap, ProseMirror and Yjs,
 * so splitting them would only add a round trip and a shared chunk named after whichever module
 * the bundler saw first.
 */
export { EditorPage } from './EditorPage.tsx'
export { ViewerPage } from './ViewerPage.tsx'
