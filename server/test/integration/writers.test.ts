import { CLOSE_REASONS, decodeMessage, encodeMessage } from '@tandem/shared'
import { SyncProvider } from '@tandem/client/sync'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { createDoc, eventually, text, type CreatedDoc } from './support/clients.ts'
import { startTestServer, type TestServer } from './support/testServer.ts'

/**
 * R33 across disconnects and restarts: a Yjs client id first extended by a writer key belongs to
 * that key. Someone else (a stock client without a key, or another key) cannot extend it while its
 * writer is offline; the writer itself can, after the server restarted.
 */

const providers: SyncProvider[] = []
afterEach(() => {
  for (const provider of providers.splice(0)) provider.destroy()
})

function editor(server: TestServer, doc: CreatedDoc, ydoc: Y.Doc, writerKey: string): SyncProvider {
  const provider = new SyncProvider({
    doc: ydoc,
    docId: doc.id,
    token: doc.editToken,
    baseUrl: server.url,
    writerKey,
    WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket,
    backoff: { baseMs: 20, maxMs: 200 },
  })
  providers.push(provider)
  return provider
}

/**
 * Sends one live edit over a raw socket as `base`'s client id, continuing its clock; resolves with
 * the close code, or 'saved' if the server accepted and stored it.
 */
async function editAs(
  server: TestServer,
  doc: CreatedDoc,
  base: Y.Doc,
  writerKey: string | null,
): Promise<number | 'saved'> {
  const forged = new Y.Doc()
  Y.applyUpdate(forged, Y.encodeStateAsUpdate(base))
  forged.clientID = base.clientID
  const before = Y.encodeStateVector(forged)
  forged.getText('t').insert(0, 'X')
  const update = Y.encodeStateAsUpdate(forged, before)
  const key = writerKey === null ? '' : `&wk=${writerKey}`
  const socket = new WebSocket(`${server.wsUrl}/${doc.id}?k=${doc.editToken}&ack=1${key}`)
  const outcome = new Promise<number | 'saved'>((resolve) => {
    socket.on('close', (code) => resolve(code))
    socket.on('message', (data: Buffer) => {
      if (decodeMessage(new Uint8Array(data)).type !== 'saved') return
      resolve('saved')
      socket.close()
    })
  })
  await new Promise((resolve) => socket.once('open', resolve))
  socket.send(encodeMessage({ type: 'sync-update', update }))
  return outcome
}

describe('writer keys', () => {
  it('[R33] nobody else extends an offline writer’s client id, even after a restart; the writer does', async () => {
    let server = await startTestServer()
    const doc = await createDoc(server.url)
    const aliceDoc = new Y.Doc()
    const aliceKey = 'alice-writer-key-0123456789'
    const alice = editor(server, doc, aliceDoc, aliceKey)
    await alice.whenSynced()
    aliceDoc.getText('t').insert(0, 'alice')
    await eventually(() => expect(alice.status.save).toBe('saved'))
    alice.destroy()

    server = await server.restart()
    expect(await editAs(server, doc, aliceDoc, null)).toBe(CLOSE_REASONS.foreignClient.code)
    expect(await editAs(server, doc, aliceDoc, 'mallory-writer-key-012345')).toBe(
      CLOSE_REASONS.foreignClient.code,
    )

    const back = editor(server, doc, aliceDoc, aliceKey)
    await back.whenSynced()
    aliceDoc.getText('t').insert(5, '!')
    await eventually(() => expect(back.status.save).toBe('saved'))
    expect(back.status.connection.kind).toBe('connected')
    const reader = new Y.Doc()
    const check = editor(server, doc, reader, 'reader-writer-key-0123456')
    await check.whenSynced()
    expect(text(reader)).toBe('alice!')
  })
})
