import { CLOSE_REASONS } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { AppendEntry } from '../../src/persistence/DocStore.ts'
import { MemoryStore } from '../../src/persistence/MemoryStore.ts'
import { createDoc, eventually, stockClient, whenStockSynced } from './support/clients.ts'
import { openStream } from './support/sse.ts'
import { startTestServer } from './support/testServer.ts'
import { startReceiver } from './support/webhooks.ts'

const ADMIN_KEY = 'admin-key-0123456789abcdef'

function request(url: string, method: string, token?: string): Promise<Response> {
  return fetch(url, { method, headers: token ? { authorization: `Bearer ${token}` } : {} })
}

/** A raw WebSocket that records how it was closed. */
async function openSocket(url: string): Promise<{ closed: Promise<number> }> {
  const socket = new WebSocket(url)
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)))
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  return { closed }
}

describe('delete', () => {
  it('[R55] removes the document for good: clients closed, 404 after, gone after a restart, webhook sent', async () => {
    let server = await startTestServer({ ADMIN_API_KEY: ADMIN_KEY, WEBHOOK_ALLOW_PRIVATE: '1' })
    const receiver = await startReceiver()
    const registered = await fetch(`${server.url}/api/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, events: ['document.deleted'] }),
    })
    expect(registered.status).toBe(201)
    receiver.secret = ((await registered.json()) as { secret: string }).secret

    const doc = await createDoc(server.url)
    const keep = await createDoc(server.url)
    const editor = stockClient(server.wsUrl, doc.id, doc.editToken)
    await whenStockSynced(editor)
    editor.doc.getText('t').insert(0, 'secret plans')
    const socket = await openSocket(`${server.wsUrl}/${doc.id}?k=${doc.editToken}`)
    const stream = await openStream(`${server.url}/api/docs/${doc.id}/events?k=${doc.viewToken}`)
    await eventually(async () => {
      const meta = (await (
        await request(`${server.url}/api/docs/${doc.id}`, 'GET', doc.viewToken)
      ).json()) as {
        version: number
      }
      expect(meta.version).toBeGreaterThan(0)
    })

    const docUrl = `${server.url}/api/docs/${doc.id}`
    expect((await request(docUrl, 'DELETE')).status).toBe(401)
    expect((await request(docUrl, 'DELETE', doc.viewToken)).status).toBe(403)
    expect((await request(docUrl, 'DELETE', keep.editToken)).status).toBe(403)
    expect((await request(docUrl, 'DELETE', doc.editToken)).status).toBe(204)

    // Everyone in it is closed: WebSocket with 4404, the event stream with its close event.
    expect(await socket.closed).toBe(CLOSE_REASONS.docNotFound.code)
    await stream.ended
    expect(stream.events.at(-1)).toMatchObject({ event: 'close' })
    expect(JSON.parse(stream.events.at(-1)?.data ?? '{}')).toMatchObject({ code: 4404 })
    // Its links died with it, on every path.
    expect((await request(docUrl, 'GET', doc.editToken)).status).toBe(404)
    expect((await request(`${docUrl}/content`, 'GET', doc.viewToken)).status).toBe(404)
    expect((await request(docUrl, 'DELETE', doc.editToken)).status).toBe(404)
    const [event] = await receiver.waitFor(1)
    expect(event?.payload).toMatchObject({ type: 'document.deleted', data: { docId: doc.id } })
    expect(event?.isVerified).toBe(true)
    // The stock client's reconnects are refused before the upgrade; it edits nothing back.
    editor.destroy()

    server = await server.restart()
    expect((await request(`${server.url}/api/docs/${doc.id}`, 'GET', ADMIN_KEY)).status).toBe(404)
    const listed = (await (await request(`${server.url}/api/docs`, 'GET', ADMIN_KEY)).json()) as {
      docs: Array<{ id: string }>
    }
    expect(listed.docs.map((d) => d.id)).toEqual([keep.id])
    expect((await request(`${server.url}/api/docs/${keep.id}`, 'GET', keep.viewToken)).status).toBe(200)
  })

  it('[R55] a delete waits for accepted writes; reads and a second delete meanwhile get 404; a restart brings nothing back', async () => {
    const store = new HeldStore()
    let server = await startTestServer({ ADMIN_API_KEY: ADMIN_KEY }, { store })
    const doc = await createDoc(server.url)
    const editor = stockClient(server.wsUrl, doc.id, doc.editToken)
    await whenStockSynced(editor)
    const member = await openSocket(`${server.wsUrl}/${doc.id}?k=${doc.viewToken}`)
    // Edits accepted but not durable when the delete arrives: it must wait for them, then remove them.
    for (let i = 0; i < 50; i++) editor.doc.getText('t').insert(0, 'x')
    await eventually(() => expect(store.heldWrites).toBeGreaterThan(0))

    const docUrl = `${server.url}/api/docs/${doc.id}`
    let isSettled = false
    const deleting = request(docUrl, 'DELETE', ADMIN_KEY).finally(() => (isSettled = true))
    // Everyone is cut off first; the delete itself waits for the held write.
    expect(await member.closed).toBe(CLOSE_REASONS.docNotFound.code)
    expect((await request(`${docUrl}/content`, 'GET', doc.viewToken)).status).toBe(404)
    expect((await request(`${docUrl}/text`, 'GET', doc.viewToken)).status).toBe(404)
    const second = request(docUrl, 'DELETE', doc.editToken)
    expect((await request(`${server.url}/healthz`, 'GET')).status).toBe(200)
    expect(isSettled).toBe(false)
    expect(store.heldWrites).toBeGreaterThan(0)

    store.release()
    // One removal, reported once: the overlapping delete finds nothing left.
    expect((await deleting).status).toBe(204)
    expect((await second).status).toBe(404)
    editor.destroy()
    expect(await store.load(doc.id)).toBeNull()
    server = await server.restart()
    expect((await request(`${server.url}/api/docs/${doc.id}`, 'GET', ADMIN_KEY)).status).toBe(404)
    expect((await request(`${server.url}/api/docs/${doc.id}/text`, 'GET', ADMIN_KEY)).status).toBe(404)
    expect(await store.load(doc.id)).toBeNull()
  })
})

describe('admin document list', () => {
  it('[R56] lists every document with its size and last change, a page at a time', async () => {
    const server = await startTestServer({ ADMIN_API_KEY: ADMIN_KEY })
    const created = []
    for (let i = 0; i < 5; i++) created.push((await createDoc(server.url)).id)
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${cursor}`
      const response = await request(`${server.url}/api/docs${query}`, 'GET', ADMIN_KEY)
      expect(response.status).toBe(200)
      const page = (await response.json()) as {
        docs: Array<{
          id: string
          storedBytes: number
          updatedAt: string
          createdAt: string
          version: number
        }>
        nextCursor: string | null
      }
      expect(page.docs.length).toBeLessThanOrEqual(2)
      for (const doc of page.docs) {
        expect(doc).toMatchObject({ storedBytes: 0, version: 0 })
        expect(Date.parse(doc.updatedAt)).toBeGreaterThan(0)
      }
      seen.push(...page.docs.map((doc) => doc.id))
      cursor = page.nextCursor
      pages += 1
    } while (cursor !== null)
    expect(pages).toBe(3)
    expect(seen).toEqual([...created].sort())
  })

  it('[R56] needs the admin key; bad limits are refused', async () => {
    const noAdmin = await startTestServer()
    expect((await request(`${noAdmin.url}/api/docs`, 'GET', 'whatever-key-0123456789')).status).toBe(401)
    const server = await startTestServer({ ADMIN_API_KEY: ADMIN_KEY })
    const doc = await createDoc(server.url)
    expect((await request(`${server.url}/api/docs`, 'GET')).status).toBe(401)
    expect((await request(`${server.url}/api/docs`, 'GET', 'wrong-key-0123456789abcdef')).status).toBe(403)
    expect((await request(`${server.url}/api/docs`, 'GET', doc.editToken)).status).toBe(403)
    expect((await request(`${server.url}/api/docs?limit=0`, 'GET', ADMIN_KEY)).status).toBe(400)
    expect((await request(`${server.url}/api/docs?limit=1001`, 'GET', ADMIN_KEY)).status).toBe(400)
  })
})

describe('admin key', () => {
  it('[R56][R55] counts only as a bearer credential, never in ?k= (query strings end up in access logs)', async () => {
    const server = await startTestServer({ ADMIN_API_KEY: ADMIN_KEY })
    const doc = await createDoc(server.url)
    const inQuery = (path: string, method = 'GET') =>
      fetch(`${server.url}${path}${path.includes('?') ? '&' : '?'}k=${ADMIN_KEY}`, { method })
    expect((await inQuery('/api/docs')).status).toBe(401)
    expect((await inQuery(`/api/docs/${doc.id}`)).status).toBe(403)
    expect((await inQuery(`/api/docs/${doc.id}/content?format=text`)).status).toBe(403)
    expect((await inQuery(`/api/docs/${doc.id}/webhooks`)).status).toBe(403)
    expect((await inQuery(`/api/docs/${doc.id}`, 'DELETE')).status).toBe(403)
    // The same key as a bearer credential works.
    expect((await request(`${server.url}/api/docs`, 'GET', ADMIN_KEY)).status).toBe(200)
    expect((await request(`${server.url}/api/docs/${doc.id}/webhooks`, 'GET', ADMIN_KEY)).status).toBe(200)
    expect((await request(`${server.url}/api/docs/${doc.id}`, 'DELETE', ADMIN_KEY)).status).toBe(204)
  })
})

/** A store whose writes wait until the test lets them through; from then on writes go straight. */
class HeldStore extends MemoryStore {
  #held: Array<() => void> = []
  #isHolding = true
  override append(entries: readonly AppendEntry[]): Promise<void> {
    if (!this.#isHolding) return super.append(entries)
    return new Promise<void>((resolve) => this.#held.push(resolve)).then(() => super.append(entries))
  }
  release(): void {
    this.#isHolding = false
    for (const resolve of this.#held.splice(0)) resolve()
  }
  get heldWrites(): number {
    return this.#held.length
  }
}

describe('health', () => {
  it('[R53] /healthz answers while up; /readyz only while the store is open and not shutting down', async () => {
    const store = new HeldStore()
    const server = await startTestServer({}, { store })
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${server.url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ready' })

    // Shutdown waits for a write that is held: meanwhile the server is up but not ready.
    const doc = await createDoc(server.url)
    const editor = stockClient(server.wsUrl, doc.id, doc.editToken)
    await whenStockSynced(editor)
    editor.doc.getText('t').insert(0, 'pending')
    await eventually(() => expect(store.heldWrites).toBe(1))
    const closing = server.close()
    const during = await fetch(`${server.url}/readyz`)
    expect(during.status).toBe(503)
    expect(during.headers.get('retry-after')).toBe('2')
    store.release()
    await closing
  })

  it('[R53][R35] during graceful shutdown /healthz stays 200 and /readyz answers 503 "shutting down"; other routes are refused', async () => {
    const store = new HeldStore()
    const server = await startTestServer({}, { store })
    const doc = await createDoc(server.url)
    const editor = stockClient(server.wsUrl, doc.id, doc.editToken)
    await whenStockSynced(editor)
    editor.doc.getText('t').insert(0, 'pending')
    await eventually(() => expect(store.heldWrites).toBe(1))
    // Shutdown is waiting for that write: the process is draining, alive and not ready.
    const closing = server.close()
    const live = await fetch(`${server.url}/healthz`)
    expect(live.status).toBe(200)
    expect(await live.json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${server.url}/readyz`)
    expect(ready.status).toBe(503)
    expect(ready.headers.get('retry-after')).toBe('2')
    expect(await ready.json()).toEqual({ status: 'not ready', reason: 'shutting down' })
    const work = await fetch(`${server.url}/api/docs/${doc.id}?k=${doc.viewToken}`)
    expect(work.status).toBe(503)
    expect(await work.json()).toEqual({
      error: CLOSE_REASONS.serverShutdown.text,
      code: CLOSE_REASONS.serverShutdown.code,
    })
    store.release()
    await closing
  })

  it('[R53] a closed store is not ready', async () => {
    const store = new MemoryStore()
    const server = await startTestServer({}, { store })
    await store.close()
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503)
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  })
})
