import { describe, expect, it } from 'vitest'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { guardPresence, repairedState } from '../src/editor/presenceGuard.ts'

function remoteState(state: unknown): Uint8Array {
  const other = new awarenessProtocol.Awareness(new Y.Doc())
  other.setLocalState(state as Record<string, unknown>)
  const update = awarenessProtocol.encodeAwarenessUpdate(other, [other.clientID])
  other.destroy()
  return update
}

describe('presence from other clients', () => {
  it('[R32] a y-prosemirror selection and a proper user pass unchanged', () => {
    const doc = new Y.Doc()
    const text = doc.getXmlFragment('default')
    const position: unknown = Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, 0))
    const state = { user: { name: 'Ada', color: '#336699' }, cursor: { anchor: position, head: position } }
    expect(repairedState(state)).toBe(state)
  })

  it('[R32] cursors and users of other shapes are repaired before the caret plugin sees them', () => {
    const local = new awarenessProtocol.Awareness(new Y.Doc())
    const seen: unknown[] = []
    const dispose = guardPresence(local)
    // Registered after the guard, as the caret plugin is: it sees only repaired states.
    local.on('change', () => {
      for (const [id, state] of local.getStates()) if (id !== local.clientID) seen.push(state)
    })
    for (const hostile of [
      { user: 'Mallory', cursor: { line: 'x', offset: 1 } },
      { user: { name: 7 }, cursor: { anchor: 5, head: { type: 'x' } } },
      { cursor: [1, 2] },
    ]) {
      awarenessProtocol.applyAwarenessUpdate(local, remoteState(hostile), 'remote')
    }
    for (const state of seen as Array<Record<string, unknown>>) {
      expect(state['cursor'] ?? null).toBeNull()
      if ('user' in state) expect(state['user']).toEqual({})
    }
    expect(seen.length).toBeGreaterThan(0)
    dispose()
    local.destroy()
  })
})
