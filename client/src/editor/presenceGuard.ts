import type * as awarenessProtocol from 'y-protocols/awareness'

type Disposer = () => void

/**
 * Other people's presence is input from peers Tandem did not write: any y-websocket client may
 * put any JSON under `user` or `cursor` (a CodeMirror client's `cursor` is not a ProseMirror
 * selection). The caret plugin reads `cursor.anchor`/`cursor.head` as y-prosemirror relative
 * positions and writes into `user`, and throws on other shapes — on every awareness change, for
 * everyone in the document. This repairs each remote state as it arrives: a `cursor` that is not
 * a pair of relative positions is dropped, a `user` that is not an object becomes one.
 *
 * Register it before the editor mounts: awareness listeners run in the order they were added, so
 * the caret plugin only ever sees repaired states.
 */
export function guardPresence(awareness: awarenessProtocol.Awareness): Disposer {
  const repair = ({ added, updated }: { added: number[]; updated: number[] }): void => {
    for (const clientId of added.concat(updated)) {
      if (clientId === awareness.clientID) continue
      const state = awareness.states.get(clientId)
      if (state === undefined) continue
      const repaired = repairedState(state)
      if (repaired !== state) awareness.states.set(clientId, repaired)
    }
  }
  awareness.on('change', repair)
  return () => awareness.off('change', repair)
}

/** The state itself when it is fine, else a repaired copy. */
export function repairedState(state: Record<string, unknown>): Record<string, unknown> {
  let repaired = state
  if ('cursor' in state && state['cursor'] != null && !isSelection(state['cursor'])) {
    repaired = { ...repaired, cursor: null }
  }
  if ('user' in state && !isUser(state['user'])) {
    repaired = { ...repaired, user: {} }
  }
  return repaired
}

function isUser(value: unknown): boolean {
  if (!isRecord(value)) return false
  const { name, color } = value
  return (
    (name === undefined || typeof name === 'string') && (color === undefined || typeof color === 'string')
  )
}

function isSelection(value: unknown): boolean {
  return isRecord(value) && isRelativePosition(value['anchor']) && isRelativePosition(value['head'])
}

/** Y.relativePositionToJSON's shape: `type`/`item` ids or null, `tname`, `assoc`. */
function isRelativePosition(value: unknown): boolean {
  if (!isRecord(value)) return false
  const { type, tname, item, assoc } = value
  return (
    isOptionalId(type) &&
    isOptionalId(item) &&
    (tname == null || typeof tname === 'string') &&
    (assoc == null || (typeof assoc === 'number' && Number.isInteger(assoc)))
  )
}

function isOptionalId(value: unknown): boolean {
  if (value == null) return true
  if (!isRecord(value)) return false
  const { client, clock } = value
  return isCounter(client) && isCounter(clock)
}

function isCounter(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
