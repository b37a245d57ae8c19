import {
  CLOSE_REASONS,
  decodeFrameBatch,
  decodeMessage,
  encodeFrameBatch,
  encodeMessage,
  type Message,
} from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createDoc, eventually, ourClient, text, type CreatedDoc } from './support/clients.ts'
import { startTestServer, type TestServer } from './support/testServer.ts'

/** A hand-driven long-poll client: every request explicit, so each rule can be tested alone. */
class RawPoller {
  constructor(
    private readonly base: string,
    private readonly token: string,
    readonly sessionId: string,
  ) {}

  static async open(server: TestServer, doc: CreatedDoc, token: string, query = ''): Promise<RawPoller> {
    const base = `${server.url}/api/docs/${doc.id}/lp`
    const response = await fetch(`${base}?k=${token}${query}`, { method: 'POST' })
    expect(response.status).toBe(201)
    const { sessionId } = (await response.json()) as { sessionId: string }
    return new RawPoller(base, token, sessionId)
  }

  post(seq: number, frames: Uint8Array[]): Promise<Response> {
    return fetch(`${this.base}/${this.sessionId}?k=${this.token}&seq=${seq}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: encodeFrameBatch(frames) as BodyInit,
    })
  }

  async poll(
    ack: number,
    wait = true,
    signal?: AbortSignal,
  ): Promise<{ status: number; batch: number; messages: Message[] }> {
    const response = await fetch(
      `${this.base}/${this.sessionId}?k=${this.token}&ack=${ack}${wait ? '' : '&wait=0'}`,
      {
        signal,
      },
    )
    const batch = Number(response.headers.get('X-Tandem-Batch') ?? 0)
    const body = new Uint8Array(await response.arrayBuffer())
    const messages = response.status === 200 ? decodeFrameBatch(body).map(decodeMessage) : []
    return { status: response.status, batch, messages }
  }
}

function insertUpdate(doc: Y.Doc, content: string): Uint8Array {
  const before = Y.encodeStateVector(doc)
  doc.getText('t').insert(doc.getText('t').length, content)
  return encodeMessage({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc, before) })
}

describe('long polling protocol', () => {
  it('[R24] a POST retried with the same seq is applied once', async () => {
    const server = await startTestServer({ POLL_TIMEOUT_MS: '1000' })
    const doc = await createDoc(server.url)
    const poller = await RawPoller.open(server, doc, doc.editToken, '&ack=1')
    const local = new Y.Doc()
    const frame = insertUpdate(local, 'once')
    expect((await poller.post(1, [frame])).status).toBe(204)
    expect((await poller.post(1, [frame])).status).toBe(204)
    // Applying a Yjs update twice is harmless anyway, so count what the server acknowledged:
    // two POSTs with seq 1 and one with seq 2 must give exactly two saved acks' worth.
    expect(
      (await poller.post(2, [encodeMessage({ type: 'sync-step2', update: new Uint8Array([0, 0]) })])).status,
    ).toBe(204)
    expect((await poller.post(4, [])).status).toBe(CLOSE_REASONS.conflict.status)
    const saved: number[] = []
    let ack = 0
    await eventually(async () => {
      const { batch, messages } = await poller.poll(ack, false)
      if (batch) ack = batch
      for (const m of messages) if (m.type === 'saved') saved.push(m.seq)
      expect(saved.at(-1)).toBe(2)
    })
    expect(server.registry.peek(doc.id)?.doc.getText('t').toString()).toBe('once')
  })

  it('[R24] a lost poll response is delivered again until a later poll acknowledges it', async () => {
    const server = await startTestServer({ POLL_TIMEOUT_MS: '1000' })
    const doc = await createDoc(server.url)
    const poller = await RawPoller.open(server, doc, doc.editToken)
    const first = await poller.poll(0)
    expect(first.status).toBe(200)
    expect(first.messages[0]?.type).toBe('sync-step1')
    // Pretend the response was lost: poll again acknowledging nothing.
    const again = await poller.poll(0)
    expect(again.batch).toBe(first.batch)
    expect(again.messages).toEqual(first.messages)
    // Acknowledged: the next poll does not repeat it (204 after the timeout).
    const next = await poller.poll(first.batch)
    expect(next.status).toBe(204)
  })

  it('[R24] frames produced while no poll waits arrive in order on the next poll', async () => {
    const server = await startTestServer({ POLL_TIMEOUT_MS: '1000' })
    const doc = await createDoc(server.url)
    const poller = await RawPoller.open(server, doc, doc.viewToken)
    const { batch } = await poller.poll(0)
    const editor = ourClient(server.url, doc.id, doc.editToken)
    await editor.whenSynced()
    for (const piece of ['a', 'b', 'c', 'd']) editor.doc.getText('t').insert(text(editor.doc).length, piece)
    await eventually(() => expect(editor.status.save).toBe('saved'))
    const mirror = new Y.Doc()
    let ack = batch
    await eventually(async () => {
      const result = await poller.poll(ack, false)
      if (result.batch) ack = result.batch
      for (const m of result.messages) if (m.type === 'sync-update') Y.applyUpdate(mirror, m.update)
      expect(mirror.getText('t').toString()).toBe('abcd')
    })
  })

  it('[R24] a second concurrent poll ends the older one; an idle poll ends empty after the timeout', async () => {
    const server = await startTestServer({ POLL_TIMEOUT_MS: '1500' })
    const doc = await createDoc(server.url)
    const poller = await RawPoller.open(server, doc, doc.editToken)
    const { batch } = await poller.poll(0)
    const older = poller.poll(batch)
    await eventually(() => expect(server.registry.peek(doc.id)?.peerCount).toBe(1))
    const newer = poller.poll(batch)
    expect((await older).status).toBe(204)
    const started = Date.now()
    expect((await newer).status).toBe(204)
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
  })

  it('[R25] an idle session expires with 410, and its presence is removed', async () => {
    const server = await startTestServer({ POLL_TIMEOUT_MS: '500', POLL_SESSION_IDLE_MS: '1000' })
    const doc = await createDoc(server.url)
    const editor = ourClient(server.url, doc.id, doc.editToken)
    await editor.whenSynced()
    const poller = await RawPoller.open(server, doc, doc.viewToken, '&name=Idle')
    await poller.poll(0, false)
    await eventually(() => expect(server.registry.peek(doc.id)?.viewerCount).toBe(1))
    // Stop polling: the session expires, the viewer disappears for the editor.
    await eventually(() => expect(server.registry.peek(doc.id)?.viewerCount).toBe(0), 8_000)
    const late = await poller.poll(0, false)
    expect(late.status).toBe(CLOSE_REASONS.sessionExpired.status)
  })

  it('[R25] a session that never polls is closed once its queue passes MAX_QUEUED_BYTES', async () => {
    const server = await startTestServer({ MAX_QUEUED_BYTES: '4096', POLL_TIMEOUT_MS: '500' })
    const doc = await createDoc(server.url)
    const poller = await RawPoller.open(server, doc, doc.viewToken)
    await poller.poll(0, false)
    const editor = ourClient(server.url, doc.id, doc.editToken)
    await editor.whenSynced()
    for (let i = 0; i < 20; i++) editor.doc.getText('t').insert(0, 'z'.repeat(1000))
    await eventually(() => expect(server.registry.peek(doc.id)?.viewerCount).toBe(0))
    const response = await poller.poll(0, false)
    expect(response.status).toBe(CLOSE_REASONS.slowReader.status)
  })

  it('[R24] bodies above MAX_MESSAGE_BYTES get 413; garbage batches close the session', async () => {
    const server = await startTestServer({ MAX_MESSAGE_BYTES: '4096' })
    const doc = await createDoc(server.url)
    const poller = await RawPoller.open(server, doc, doc.editToken)
    const big = await poller.post(1, [new Uint8Array(10_000)])
    expect(big.status).toBe(413)
    const garbage = await fetch(
      `${server.url}/api/docs/${doc.id}/lp/${poller.sessionId}?k=${doc.editToken}&seq=1`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: new Uint8Array([200, 1]),
      },
    )
    expect(garbage.status).toBe(CLOSE_REASONS.malformedMessage.status)
    expect((await poller.poll(0, false)).status).toBe(CLOSE_REASONS.malformedMessage.status)
  })

  it('[R17][R20] every long-poll request checks the token; a view token polls but never writes', async () => {
    const server = await startTestServer({ POLL_TIMEOUT_MS: '500' })
    const doc = await createDoc(server.url)
    const other = await createDoc(server.url)
    const base = `${server.url}/api/docs/${doc.id}/lp`
    expect((await fetch(base, { method: 'POST' })).status).toBe(401)
    expect((await fetch(`${base}?k=${other.editToken}`, { method: 'POST' })).status).toBe(403)
    const viewer = await RawPoller.open(server, doc, doc.viewToken)
    expect((await fetch(`${base}/${viewer.sessionId}?k=${other.viewToken}&ack=0`)).status).toBe(403)
    expect((await fetch(`${base}/${viewer.sessionId}?ack=0`)).status).toBe(401)
    const local = new Y.Doc()
    expect((await viewer.post(1, [insertUpdate(local, 'HACK')])).status).toBe(204)
    let denied = false
    let ack = 0
    await eventually(async () => {
      const result = await viewer.poll(ack, false)
      if (result.batch) ack = result.batch
      denied ||= result.messages.some((m) => m.type === 'auth-denied')
      expect(denied).toBe(true)
    })
    expect(server.registry.peek(doc.id)?.doc.getText('t').toString()).toBe('')
  })

  it('[R19] resetting links ends long-poll sessions with 403', async () => {
    const server = await startTestServer({ POLL_TIMEOUT_MS: '5000' })
    const doc = await createDoc(server.url)
    const poller = await RawPoller.open(server, doc, doc.viewToken)
    await eventually(() => expect(server.registry.peek(doc.id)?.viewerCount).toBe(1))
    const reset = fetch(`${server.url}/api/docs/${doc.id}/links/reset?k=${doc.editToken}`, { method: 'POST' })
    let ack = 0
    let status = 200
    while (status === 200) {
      const result = await poller.poll(ack)
      status = result.status
      ack = result.batch || ack
    }
    expect((await reset).status).toBe(200)
    expect(status).toBe(403)
  })
})

describe('dashboard short polling', () => {
  it('[R27] GET /api/docs/:id answers 304 while nothing changed, 200 with who is here when it does', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const url = `${server.url}/api/docs/${doc.id}?k=${doc.viewToken}`
    const first = await fetch(url)
    const etag = first.headers.get('etag') ?? ''
    expect(etag).not.toBe('')
    expect((await fetch(url, { headers: { 'If-None-Match': etag } })).status).toBe(304)
    const editor = ourClient(server.url, doc.id, doc.editToken)
    await editor.whenSynced()
    editor.awareness.setLocalStateField('user', { name: 'Bob', color: '#123456' })
    editor.doc.getText('t').insert(0, 'x')
    await eventually(async () => {
      const changed = await fetch(url, { headers: { 'If-None-Match': etag } })
      expect(changed.status).toBe(200)
      expect(await changed.json()).toMatchObject({ editorNames: ['Bob'], viewers: 0, version: 1 })
    })
  })
})
