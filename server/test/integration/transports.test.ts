import { isViewerPresence } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import { createDoc, eventually, ourClient, text } from './support/clients.ts'
import { startTestServer } from './support/testServer.ts'

/**
 * The same scenarios over every transport (STYLE.md 14): converge, awareness, reconnect and
 * view-only. Each editor transport is checked against a WebSocket peer, so they interoperate.
 */
describe.each(['websocket', 'longpoll', 'poll'] as const)('editing over %s', (transport) => {
  it('[R1] converges with a WebSocket editor on concurrent edits', async () => {
    const server = await startTestServer({ POLL_TIMEOUT_MS: '2000' })
    const doc = await createDoc(server.url)
    const a = ourClient(server.url, doc.id, doc.editToken, { transport })
    const b = ourClient(server.url, doc.id, doc.editToken, { transport: 'websocket' })
    await Promise.all([a.whenSynced(), b.whenSynced()])
    expect(a.status.transport).toBe(transport)
    for (let i = 0; i < 20; i++) {
      a.doc.getText('t').insert(0, 'a')
      b.doc.getText('t').insert(0, 'b')
    }
    await eventually(() => {
      expect(text(a.doc)).toBe(text(b.doc))
      expect(text(a.doc)).toHaveLength(40)
    })
    await eventually(() => expect(a.status.save).toBe('saved'))
  })

  it('[R4] presence appears for others and is removed when the client leaves', async () => {
    const server = await startTestServer({ POLL_TIMEOUT_MS: '2000' })
    const doc = await createDoc(server.url)
    const a = ourClient(server.url, doc.id, doc.editToken, { transport })
    const b = ourClient(server.url, doc.id, doc.editToken, { transport: 'websocket' })
    await Promise.all([a.whenSynced(), b.whenSynced()])
    a.awareness.setLocalStateField('user', { name: `on ${transport}` })
    await eventually(() =>
      expect(b.awareness.getStates().get(a.doc.clientID)).toEqual({ user: { name: `on ${transport}` } }),
    )
    b.awareness.setLocalStateField('user', { name: 'ws' })
    await eventually(() =>
      expect(a.awareness.getStates().get(b.doc.clientID)).toEqual({ user: { name: 'ws' } }),
    )
    a.destroy()
    await eventually(() => expect(b.awareness.getStates().has(a.doc.clientID)).toBe(false))
  })

  it('[R12] reconnects after a server restart and saves edits made while it was down', async () => {
    let server = await startTestServer({ POLL_TIMEOUT_MS: '2000' })
    const doc = await createDoc(server.url)
    const a = ourClient(server.url, doc.id, doc.editToken, { transport })
    await a.whenSynced()
    a.doc.getText('t').insert(0, 'before;')
    await eventually(() => expect(a.status.save).toBe('saved'))
    await server.close()
    await eventually(() => expect(a.status.connection.kind).not.toBe('connected'))
    a.doc.getText('t').insert(7, 'during;')
    server = await startTestServer(
      { PORT: String(server.port), POLL_TIMEOUT_MS: '2000' },
      { dataDir: server.dataDir },
    )
    await eventually(() => expect(a.status.save).toBe('saved'), 10_000)
    const reader = ourClient(server.url, doc.id, doc.viewToken, { mode: 'view' })
    await reader.whenSynced()
    expect(text(reader.doc)).toBe('before;during;')
  })
})

describe.each(['sse', 'longpoll', 'poll', 'websocket'] as const)('viewing over %s', (transport) => {
  it('[R20][R21] a viewer follows live edits, is counted as a viewer, and never writes', async () => {
    const server = await startTestServer({ POLL_TIMEOUT_MS: '2000' })
    const doc = await createDoc(server.url)
    const editor = ourClient(server.url, doc.id, doc.editToken)
    const viewer = ourClient(server.url, doc.id, doc.viewToken, { mode: 'view', transport, viewerName: 'Vi' })
    await Promise.all([editor.whenSynced(), viewer.whenSynced()])
    await eventually(() =>
      expect([...editor.awareness.getStates().values()].filter(isViewerPresence)).toEqual([
        { viewer: { name: 'Vi' } },
      ]),
    )
    editor.doc.getText('t').insert(0, 'hello')
    await eventually(() => expect(text(viewer.doc)).toBe('hello'))
    viewer.doc.getText('t').insert(0, 'X')
    editor.doc.getText('t').insert(5, '!')
    await eventually(() => expect(text(viewer.doc)).toBe('Xhello!'))
    await eventually(() => expect(editor.status.save).toBe('saved'))
    expect(text(editor.doc)).toBe('hello!')
    expect(server.registry.peek(doc.id)?.doc.getText('t').toString()).toBe('hello!')
    viewer.destroy()
    await eventually(() =>
      expect([...editor.awareness.getStates().values()].filter(isViewerPresence)).toEqual([]),
    )
  })
})
