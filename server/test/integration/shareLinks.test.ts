import { CLOSE_REASONS, decodeMessage, encodeMessage, type Message } from '@tandem/shared'
import { describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { createDoc, eventually, ourClient, stockClient, text, whenStockSynced } from './support/clients.ts'
import { openStream } from './support/sse.ts'
import { startTestServer } from './support/testServer.ts'

/** Status of a WebSocket upgrade: 101 when it opens, else the HTTP refusal's status. */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url)
    socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0))
    socket.on('open', () => {
      resolve(101)
      socket.close()
    })
    socket.on('error', () => undefined)
  })
}

function tamper(token: string): string {
  const last = token.at(-1) === 'A' ? 'B' : 'A'
  return token.slice(0, -1) + last
}

interface RawClient {
  readonly socket: WebSocket
  readonly received: Message[]
}

async function rawClient(url: string): Promise<RawClient> {
  const socket = new WebSocket(url)
  const received: Message[] = []
  socket.on('message', (data: Buffer) => received.push(decodeMessage(new Uint8Array(data))))
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  return { socket, received }
}

describe('share links', () => {
  it('[R17] every REST route checks the token: 401 missing, 403 other doc / tampered / garbage', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const other = await createDoc(server.url)
    const routes: Array<[string, string]> = [
      ['GET', `/api/docs/${doc.id}`],
      ['GET', `/api/docs/${doc.id}/text`],
      ['GET', `/api/docs/${doc.id}/links`],
      ['POST', `/api/docs/${doc.id}/links/reset`],
      ['GET', `/api/docs/${doc.id}/events`],
    ]
    const cases: Array<[string, string | null, number]> = [
      ['missing', null, 401],
      ['other document', other.editToken, 403],
      ['tampered', tamper(doc.editToken), 403],
      ['garbage', 'not-a-token', 403],
      ['view token altered to edit', `e.${doc.viewToken.slice(2)}`, 403],
    ]
    for (const [method, path] of routes) {
      for (const [name, token, status] of cases) {
        const query = token === null ? '' : `?k=${encodeURIComponent(token)}`
        const response = await fetch(`${server.url}${path}${query}`, { method })
        expect(response.status, `${method} ${path} ${name}`).toBe(status)
        const body = (await response.json()) as { error: string; code: number }
        expect(body.code, `${method} ${path} ${name}`).toBe(4000 + status)
        expect(body.error.length).toBeGreaterThan(0)
      }
    }
  })

  it('[R17] the WebSocket upgrade is refused with the HTTP status before any work', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const other = await createDoc(server.url)
    expect(await upgradeStatus(`${server.wsUrl}/${doc.id}`)).toBe(401)
    expect(await upgradeStatus(`${server.wsUrl}/${doc.id}?k=${other.editToken}`)).toBe(403)
    expect(await upgradeStatus(`${server.wsUrl}/${doc.id}?k=${tamper(doc.editToken)}`)).toBe(403)
    expect(await upgradeStatus(`${server.wsUrl}/unknownDoc?k=${doc.editToken}`)).toBe(404)
    expect(await upgradeStatus(`${server.wsUrl}/${doc.id}?k=${doc.viewToken}`)).toBe(101)
    expect(server.registry.loadedRoomCount).toBe(1)
  })

  it('[R18] tokens survive a restart: the secret is kept in DATA_DIR', async () => {
    let server = await startTestServer()
    const doc = await createDoc(server.url)
    server = await server.restart()
    expect((await fetch(`${server.url}/api/docs/${doc.id}?k=${doc.viewToken}`)).status).toBe(200)
  })

  it('[R18] a token signed with another LINK_SECRET is refused', async () => {
    let server = await startTestServer({ LINK_SECRET: 'a'.repeat(32) })
    const doc = await createDoc(server.url)
    await server.close()
    server = await startTestServer({ LINK_SECRET: 'b'.repeat(32) }, { dataDir: server.dataDir })
    expect((await fetch(`${server.url}/api/docs/${doc.id}?k=${doc.viewToken}`)).status).toBe(403)
  })

  it('[R19] reset disconnects every holder at once, old tokens fail everywhere, new ones work', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const editor = ourClient(server.url, doc.id, doc.editToken)
    const stockViewer = stockClient(server.wsUrl, doc.id, doc.viewToken)
    await Promise.all([editor.whenSynced(), whenStockSynced(stockViewer)])
    const stream = await openStream(`${server.url}/api/docs/${doc.id}/events?k=${doc.viewToken}`)
    await eventually(() => expect(server.registry.peek(doc.id)?.viewerCount).toBe(2))
    const stockClosed = new Promise<number>((resolve) =>
      stockViewer.once('connection-close', (event) => resolve(event?.code ?? 0)),
    )

    const reset = await fetch(`${server.url}/api/docs/${doc.id}/links/reset`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${doc.editToken}` },
    })
    expect(reset.status).toBe(200)
    const fresh = (await reset.json()) as { editToken: string; viewToken: string }
    expect(fresh.editToken).not.toBe(doc.editToken)

    expect(await stockClosed).toBe(CLOSE_REASONS.forbidden.code)
    await stream.ended
    expect(stream.events.at(-1)).toMatchObject({ event: 'close' })
    expect(JSON.parse(stream.events.at(-1)?.data ?? '{}')).toMatchObject({
      code: CLOSE_REASONS.forbidden.code,
    })
    await eventually(() =>
      expect(editor.status.connection).toMatchObject({ kind: 'refused', reason: CLOSE_REASONS.forbidden }),
    )

    for (const token of [doc.editToken, doc.viewToken]) {
      expect((await fetch(`${server.url}/api/docs/${doc.id}?k=${token}`)).status).toBe(403)
      expect((await fetch(`${server.url}/api/docs/${doc.id}/events?k=${token}`)).status).toBe(403)
      expect(await upgradeStatus(`${server.wsUrl}/${doc.id}?k=${token}`)).toBe(403)
    }
    const again = ourClient(server.url, doc.id, fresh.editToken)
    await again.whenSynced()
    expect((await fetch(`${server.url}/api/docs/${doc.id}?k=${fresh.viewToken}`)).status).toBe(200)
  })

  it('[R20] a view token can read but never write over WebSocket; a no-op step 2 is accepted silently', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const editor = ourClient(server.url, doc.id, doc.editToken)
    await editor.whenSynced()
    editor.doc.getText('t').insert(0, 'original')
    await eventually(() => expect(editor.status.save).toBe('saved'))

    const viewer = await rawClient(`${server.wsUrl}/${doc.id}?k=${doc.viewToken}&ack=1`)
    await eventually(() => expect(viewer.received.some((m) => m.type === 'sync-step1')).toBe(true))
    // What a read-only client sends: its step 1 and a step 2 with nothing the server lacks.
    const mirror = new Y.Doc()
    viewer.socket.send(encodeMessage({ type: 'sync-step1', stateVector: Y.encodeStateVector(mirror) }))
    await eventually(() => expect(viewer.received.some((m) => m.type === 'sync-step2')).toBe(true))
    for (const m of viewer.received) if (m.type === 'sync-step2') Y.applyUpdate(mirror, m.update)
    expect(mirror.getText('t').toString()).toBe('original')
    viewer.socket.send(encodeMessage({ type: 'sync-step2', update: Y.encodeStateAsUpdate(mirror) }))
    await eventually(() => expect(viewer.received.some((m) => m.type === 'saved' && m.seq === 1)).toBe(true))
    expect(viewer.received.some((m) => m.type === 'auth-denied')).toBe(false)

    // Content from a view link: refused as update and as step 2, the connection is told why.
    const before = Y.encodeStateVector(mirror)
    mirror.getText('t').insert(0, 'HACK ')
    const hack = Y.encodeStateAsUpdate(mirror, before)
    viewer.socket.send(encodeMessage({ type: 'sync-update', update: hack }))
    viewer.socket.send(encodeMessage({ type: 'sync-step2', update: Y.encodeStateAsUpdate(mirror) }))
    const deletion = new Y.Doc()
    Y.applyUpdate(deletion, Y.encodeStateAsUpdate(editor.doc))
    const beforeDelete = Y.encodeStateVector(deletion)
    deletion.getText('t').delete(0, 3)
    viewer.socket.send(
      encodeMessage({ type: 'sync-update', update: Y.encodeStateAsUpdate(deletion, beforeDelete) }),
    )
    await eventually(() => expect(viewer.received.filter((m) => m.type === 'auth-denied')).toHaveLength(3))
    await eventually(() => expect(viewer.received.some((m) => m.type === 'saved' && m.seq === 4)).toBe(true))
    expect(viewer.received.find((m) => m.type === 'auth-denied')).toEqual({
      type: 'auth-denied',
      reason: CLOSE_REASONS.readOnly.text,
    })
    expect(viewer.socket.readyState).toBe(WebSocket.OPEN)
    expect(text(editor.doc)).toBe('original')
    expect(server.registry.peek(doc.id)?.doc.getText('t').toString()).toBe('original')
    expect(server.persister.backlog).toBe(0)
    viewer.socket.close()
  })

  it('[R20] the stock y-websocket client with a view link syncs silently and its edits go nowhere', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const editor = ourClient(server.url, doc.id, doc.editToken)
    await editor.whenSynced()
    editor.doc.getText('t').insert(0, 'hello')
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    try {
      const stock = stockClient(server.wsUrl, doc.id, doc.viewToken)
      await whenStockSynced(stock)
      await eventually(() => expect(text(stock.doc)).toBe('hello'))
      expect(warn).not.toHaveBeenCalled()
      stock.doc.getText('t').insert(0, 'nope ')
      await eventually(() =>
        expect(warn).toHaveBeenCalledWith(expect.stringContaining(CLOSE_REASONS.readOnly.text)),
      )
      editor.doc.getText('t').insert(5, '!')
      await eventually(() => expect(text(stock.doc)).toContain('hello!'))
      expect(text(editor.doc)).toBe('hello!')
    } finally {
      warn.mockRestore()
    }
  })

  it('[R20] view tokens cannot manage links', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    for (const [method, path] of [
      ['GET', 'links'],
      ['POST', 'links/reset'],
    ] as const) {
      const response = await fetch(`${server.url}/api/docs/${doc.id}/${path}?k=${doc.viewToken}`, { method })
      expect(response.status).toBe(403)
      expect(((await response.json()) as { code: number }).code).toBe(CLOSE_REASONS.readOnly.code)
    }
  })
})
