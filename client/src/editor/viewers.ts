import type { Awareness } from 'y-protocols/awareness'

export interface Viewer {
  readonly clientId: number
  /** '' when the viewer chose to stay anonymous. */
  readonly name: string
}

const ANONYMOUS = 'Anonymous'

/**
 * The people watching through a view link. The server announces one awareness state
 * `{ viewer: { name } }` per connected viewer; editors announce `user` instead, so the two never
 * mix. Remote states are untrusted input: a malformed `viewer` still counts, with no name.
 */
export function readViewers(awareness: Awareness): Viewer[] {
  const viewers: Viewer[] = []
  for (const [clientId, state] of awareness.getStates()) {
    const viewer: unknown = state['viewer']
    if (typeof viewer !== 'object' || viewer === null) continue
    const { name } = viewer as Record<string, unknown>
    viewers.push({ clientId, name: typeof name === 'string' ? name.trim() : '' })
  }
  return viewers.sort((a, b) => a.name.localeCompare(b.name) || a.clientId - b.clientId)
}

/** `2 viewing`: the count editors see in the header. */
export function viewerCountText(count: number): string {
  return `${count} viewing`
}

/** Who is watching, for the count's tooltip: named viewers first, then how many are anonymous. */
export function viewerNamesText(viewers: readonly Viewer[]): string {
  const names = viewers.map((viewer) => viewer.name).filter((name) => name !== '')
  const anonymous = viewers.length - names.length
  if (anonymous > 0) names.push(anonymous === 1 ? ANONYMOUS : `${anonymous} anonymous`)
  return names.join(', ')
}
