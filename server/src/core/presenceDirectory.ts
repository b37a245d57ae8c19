/** Who is in a document, as the dashboard shows it (R27): connections and names. */
export interface DocPresence {
  /** Open connections (editors, viewers, transport probes). */
  readonly connections: number
  readonly viewers: number
  readonly editorNames: readonly string[]
  readonly viewerNames: readonly string[]
}

export const NOBODY: DocPresence = Object.freeze({
  connections: 0,
  viewers: 0,
  editorNames: [],
  viewerNames: [],
})

/**
 * Each node's part of every document's presence, readable from any node (SPEC R66), so the
 * dashboard of a node that does not serve the document still shows who is in it. A node's part
 * expires unless renewed, so a node that died stops counting within a bounded time.
 */
export interface PresenceDirectory {
  /** This node's part now; `null`: it has none (its last connection left). */
  report(docId: string, part: DocPresence | null): void
  /** Every other live node's parts, added up (this node reads its own from its rooms). */
  read(docId: string): Promise<DocPresence>
  close(): Promise<void>
}

/** Several nodes' parts as one: counts added, names of all, sorted. */
export function mergePresence(parts: readonly DocPresence[]): DocPresence {
  let connections = 0
  let viewers = 0
  const editorNames: string[] = []
  const viewerNames: string[] = []
  for (const part of parts) {
    connections += part.connections
    viewers += part.viewers
    editorNames.push(...part.editorNames)
    viewerNames.push(...part.viewerNames)
  }
  return { connections, viewers, editorNames: editorNames.sort(), viewerNames: viewerNames.sort() }
}
