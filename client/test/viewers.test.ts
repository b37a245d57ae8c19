import { describe, expect, it } from 'vitest'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { readViewers, viewerCountText, viewerNamesText } from '../src/editor/viewers.ts'

/** An awareness holding one remote state per argument, as the provider would apply them. */
function awarenessWith(...states: Array<Record<string, unknown>>): Awareness {
  const local = new Awareness(new Y.Doc())
  for (const state of states) {
    const remote = new Awareness(new Y.Doc())
    remote.setLocalState(state)
    applyAwarenessUpdate(local, encodeAwarenessUpdate(remote, [remote.clientID]), 'remote')
  }
  return local
}

describe('viewers', () => {
  it('[R21] counts viewer states only, not editors', () => {
    const awareness = awarenessWith(
      { user: { name: 'Alice', color: '#1976d2' } },
      { viewer: { name: 'Victor' } },
      { viewer: { name: '' } },
    )
    awareness.setLocalStateField('user', { name: 'Me', color: '#d32f2f' })
    const viewers = readViewers(awareness)
    expect(viewers.map((viewer) => viewer.name)).toEqual(['', 'Victor'])
    expect(viewerCountText(viewers.length)).toBe('2 viewing')
    expect(viewerNamesText(viewers)).toBe('Victor, Anonymous')
  })

  it('counts a malformed viewer state as anonymous', () => {
    const viewers = readViewers(awarenessWith({ viewer: { name: 42 } }, { viewer: 'x' }))
    expect(viewers.map((viewer) => viewer.name)).toEqual([''])
  })

  it('summarizes several anonymous viewers', () => {
    const viewers = readViewers(awarenessWith({ viewer: { name: '' } }, { viewer: { name: ' ' } }))
    expect(viewerNamesText(viewers)).toBe('2 anonymous')
    expect(viewerNamesText([])).toBe('')
  })
})
