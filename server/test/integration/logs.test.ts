import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createDoc, eventually, stockClient, whenStockSynced } from './support/clients.ts'
import { openStream } from './support/sse.ts'
import { startTestServer } from './support/testServer.ts'

const ADMIN_KEY = 'admin-key-0123456789abcdef'
const CONTENT = 'confidential roadmap'

type Line = Record<string, unknown> & { msg: string }

describe('structured logs', () => {
  it('[R52] one JSON line per connection opened/closed and per rejection; no tokens, no content', async () => {
    const raw: string[] = []
    const server = await startTestServer(
      { LOG_LEVEL: 'info', ADMIN_API_KEY: ADMIN_KEY },
      { logStream: { write: (line) => void raw.push(line) } },
    )
    const lines = (): Line[] => raw.map((line) => JSON.parse(line) as Line)
    const doc = await createDoc(server.url)

    const editor = stockClient(server.wsUrl, doc.id, doc.editToken)
    await whenStockSynced(editor)
    editor.doc.getText('t').insert(0, CONTENT)
    const viewer = await openStream(`${server.url}/api/docs/${doc.id}/events?k=${doc.viewToken}&name=Vi`)
    const opened = await fetch(`${server.url}/api/docs/${doc.id}/lp?k=${doc.editToken}&fallback=1`, {
      method: 'POST',
    })
    const { sessionId } = (await opened.json()) as { sessionId: string }
    await fetch(`${server.url}/api/docs/${doc.id}/lp/${sessionId}?k=${doc.editToken}`, { method: 'DELETE' })
    const garbage = new WebSocket(`${server.wsUrl}/${doc.id}?k=${doc.editToken}`)
    await new Promise((resolve) => garbage.once('open', resolve))
    garbage.send(new Uint8Array([0, 9, 9]))
    await new Promise((resolve) => garbage.once('close', resolve))
    await fetch(`${server.url}/api/docs/${doc.id}/content?format=html`, {
      headers: { authorization: `Bearer ${doc.viewToken}` },
    })
    expect(
      (
        await fetch(`${server.url}/api/docs/${doc.id}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${ADMIN_KEY}` },
        })
      ).status,
    ).toBe(204)
    await viewer.ended

    await eventually(() => {
      const all = lines()
      const openedLines = all.filter((line) => line.msg === 'connection opened')
      for (const [transport, role] of [
        ['websocket', 'edit'],
        ['sse', 'view'],
        ['longpoll', 'edit'],
      ])
        expect(openedLines).toContainEqual(expect.objectContaining({ docId: doc.id, transport, role }))
      expect(openedLines).toContainEqual(expect.objectContaining({ transport: 'longpoll', isFallback: true }))
      const closed = all.filter((line) => line.msg === 'connection closed')
      expect(closed).toContainEqual(
        expect.objectContaining({
          docId: doc.id,
          transport: 'longpoll',
          role: 'edit',
          code: 1000,
          reason: 'closed',
        }),
      )
      expect(closed).toContainEqual(
        expect.objectContaining({
          docId: doc.id,
          transport: 'sse',
          role: 'view',
          code: 4404,
          reason: 'document not found',
        }),
      )
      expect(closed).toContainEqual(expect.objectContaining({ docId: doc.id, code: 4402 }))
      expect(all).toContainEqual(
        expect.objectContaining({
          msg: 'input rejected',
          docId: doc.id,
          code: 4402,
          reason: 'malformed message',
        }),
      )
      expect(all).toContainEqual(expect.objectContaining({ msg: 'document deleted', docId: doc.id }))
    })
    const everything = raw.join('')
    for (const secret of [doc.editToken, doc.viewToken, ADMIN_KEY, CONTENT])
      expect(everything).not.toContain(secret)
  })
})
