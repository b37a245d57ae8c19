import { describe, expect, it } from 'vitest'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { readPresence } from '../src/editor/presence.ts'

/** An awareness that has received `remote`'s state, as the provider would apply it. */
function awarenessWithRemote(remoteState: Record<string, unknown>): { local: Awareness; remoteId: number } {
  const local = new Awareness(new Y.Doc())
  const remote = new Awareness(new Y.Doc())
  remote.setLocalState(remoteState)
  applyAwarenessUpdate(local, encodeAwarenessUpdate(remote, [remote.clientID]), 'remote')
  return { local, remoteId: remote.clientID }
}

describe('readPresence', () => {
  it('lists you first, then others by name', () => {
    const { local, remoteId } = awarenessWithRemote({ user: { name: 'Alice', color: '#1976d2' } })
    local.setLocalStateField('user', { name: 'Zed', color: '#d32f2f' })
    expect(readPresence(local)).toEqual([
      { clientId: local.clientID, name: 'Zed', color: '#d32f2f', isSelf: true },
      { clientId: remoteId, name: 'Alice', color: '#1976d2', isSelf: false },
    ])
  })

  it('skips states without a usable user and neutralizes odd colours', () => {
    expect(readPresence(awarenessWithRemote({ cursor: null }).local)).toEqual([])
    expect(readPresence(awarenessWithRemote({ user: { name: 42 } }).local)).toEqual([])
    const [user] = readPresence(awarenessWithRemote({ user: { name: 'Eve', color: 'url(x)' } }).local)
    expect(user?.color).toBe('#6b7280')
  })
})
