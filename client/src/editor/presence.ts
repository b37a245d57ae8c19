import type { Awareness } from 'y-protocols/awareness'

export interface PresenceUser {
  readonly clientId: number
  readonly name: string
  readonly color: string
  readonly isSelf: boolean
}

const HEX_COLOR = /^#[0-9a-f]{6}$/i
const FALLBACK_COLOR = '#6b7280'

/**
 * Everyone in the awareness who has said who they are (CollaborationCaret's `user` field), you
 * first, then by name. Remote states are untrusted input: anything malformed is skipped.
 */
export function readPresence(awareness: Awareness): PresenceUser[] {
  const users: PresenceUser[] = []
  for (const [clientId, state] of awareness.getStates()) {
    const user: unknown = state['user']
    if (typeof user !== 'object' || user === null) continue
    const { name, color } = user as Record<string, unknown>
    if (typeof name !== 'string' || name.trim() === '') continue
    users.push({
      clientId,
      name,
      color: typeof color === 'string' && HEX_COLOR.test(color) ? color : FALLBACK_COLOR,
      isSelf: clientId === awareness.clientID,
    })
  }
  return users.sort(
    (a, b) => Number(b.isSelf) - Number(a.isSelf) || a.name.localeCompare(b.name) || a.clientId - b.clientId,
  )
}
