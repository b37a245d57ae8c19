import { CLOSE_REASONS } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { LevelStore } from '../../src/persistence/LevelStore.ts'
import { createDoc, eventually, type CreatedDoc } from './support/clients.ts'
import { openStream } from './support/sse.ts'
import { startTestServer, type TestServer } from './support/testServer.ts'

/** Bytes no Yjs decoder reads: even the struct ranges cannot be parsed (fails as the room loads). */
const GARBAGE = new Uint8Array([9, 9, 9])

/**
 * A real update whose structs parse but whose delete set is cut short: the room loads from its
 * struct ranges and fails only when Yjs applies it (on first use of the content).
 */
function truncatedDeleteSet(): Uint8Array {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, 'hello')
  const update = Y.encodeStateAsUpdate(doc)
  // The last byte is the delete set's client count, 0; five clients whose entries are missing.
  update[update.length - 1] = 5
  return update
}

/**
 * A document created through the server, then given an entry Yjs cannot decode straight in its
 * LevelDB while the server is stopped, as a bad disk or a bug of an older version would leave it.
 */
async function serverWithBrokenDocument(
  entry: Uint8Array,
): Promise<{ server: TestServer; broken: CreatedDoc }> {
  const first = await startTestServer()
  const broken = await createDoc(first.url)
  await first.close()
  const store = await LevelStore.open({ dir: first.dataDir, syncWrites: false, compactAfterEntries: 500 })
  await store.append([{ docId: broken.id, update: entry }])
  await store.close()
  return { server: await first.restart(), broken }
}

const ROUTES = [
  'text',
  'content?format=json',
  'content?format=html',
  'content?format=markdown',
  'content?format=text',
]

describe('undecodable storage (R10)', () => {
  for (const [kind, entry] of [
    ['unparseable bytes', GARBAGE],
    ['a truncated delete set', truncatedDeleteSet()],
  ] as const) {
    it(`[R10] GET /text and /content of a document with an undecodable entry (${kind}) answer 503 with the reason; others keep working`, async () => {
      const { server, broken } = await serverWithBrokenDocument(entry)
      const fine = await createDoc(server.url)
      for (const route of ROUTES) {
        const response = await fetch(`${server.url}/api/docs/${broken.id}/${route}`, {
          headers: { Authorization: `Bearer ${broken.viewToken}` },
        })
        expect({ route, status: response.status }).toEqual({ route, status: 503 })
        expect(response.headers.get('retry-after')).toBe('2')
        expect(await response.json()).toEqual({
          error: CLOSE_REASONS.docUnavailable.text,
          code: CLOSE_REASONS.docUnavailable.code,
        })
        const other = await fetch(`${server.url}/api/docs/${fine.id}/${route}`, {
          headers: { Authorization: `Bearer ${fine.viewToken}` },
        })
        expect({ route, status: other.status }).toEqual({ route, status: 200 })
      }
      // Fails closed: the entry is still there, never replaced by an empty document.
      const meta = (await (
        await fetch(`${server.url}/api/docs/${broken.id}?k=${broken.viewToken}`)
      ).json()) as {
        version: number
        storedBytes: number
      }
      expect(meta).toMatchObject({ version: 1, storedBytes: entry.byteLength })
    })
  }

  it('[R10] joins of a document with an undecodable entry close with 4503 on WebSocket, event stream and long polling', async () => {
    const { server, broken } = await serverWithBrokenDocument(GARBAGE)

    const socket = new WebSocket(`${server.wsUrl}/${broken.id}?k=${broken.editToken}`)
    const closeCode = await new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)))
    expect(closeCode).toBe(CLOSE_REASONS.docUnavailable.code)

    const stream = await openStream(`${server.url}/api/docs/${broken.id}/events?k=${broken.viewToken}`)
    await stream.ended
    const closeEvent = stream.events.find((event) => event.event === 'close')
    expect(JSON.parse(closeEvent?.data ?? '{}')).toMatchObject({ code: CLOSE_REASONS.docUnavailable.code })

    const opened = await fetch(`${server.url}/api/docs/${broken.id}/lp?k=${broken.editToken}`, {
      method: 'POST',
    })
    expect(opened.status).toBe(201)
    const { sessionId } = (await opened.json()) as { sessionId: string }
    await eventually(async () => {
      const poll = await fetch(
        `${server.url}/api/docs/${broken.id}/lp/${sessionId}?k=${broken.editToken}&ack=0`,
      )
      expect(poll.status).toBe(503)
      expect(await poll.json()).toMatchObject({ code: CLOSE_REASONS.docUnavailable.code })
    })
  })
})
