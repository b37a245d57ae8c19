import { CLOSE_REASONS } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import { createDoc, type CreatedDoc } from './support/clients.ts'
import { startTestServer } from './support/testServer.ts'

async function openSession(url: string, doc: CreatedDoc): Promise<string> {
  const response = await fetch(`${url}/api/docs/${doc.id}/lp?k=${doc.editToken}`, { method: 'POST' })
  expect(response.status).toBe(201)
  return ((await response.json()) as { sessionId: string }).sessionId
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

describe('long-poll session ids behind a load balancer (PROTOCOL §8.2)', () => {
  it('[R68] a session id is `<NODE_NAME>.<random>`: the balancer’s routing key', async () => {
    const server = await startTestServer({ NODE_NAME: 'node7' })
    const doc = await createDoc(server.url)
    const first = await openSession(server.url, doc)
    const second = await openSession(server.url, doc)
    expect(first).toMatch(new RegExp(`^node7\\.${UUID}$`))
    expect(second).toMatch(new RegExp(`^node7\\.${UUID}$`))
    expect(second).not.toBe(first)
  })

  it('[R68] without NODE_NAME, a random name per start, the same for all of its sessions', async () => {
    const one = await startTestServer()
    const other = await startTestServer()
    const [oneDoc, otherDoc] = [await createDoc(one.url), await createDoc(other.url)]
    const name = (sessionId: string): string => sessionId.split('.')[0] ?? ''
    const ones = [await openSession(one.url, oneDoc), await openSession(one.url, oneDoc)]
    expect(name(ones[0] ?? '')).toMatch(/^node-[0-9a-f]{8}$/)
    expect(name(ones[1] ?? '')).toBe(name(ones[0] ?? ''))
    expect(name(await openSession(other.url, otherDoc))).not.toBe(name(ones[0] ?? ''))
  })

  it('[R68] a session of another node, or an id this node never gave, is 410: open a new session and resync', async () => {
    const node1 = await startTestServer({ NODE_NAME: 'node1' })
    const node2 = await startTestServer({ NODE_NAME: 'node2' })
    const doc = await createDoc(node1.url)
    const elsewhere = await openSession(node2.url, await createDoc(node2.url))
    const base = `${node1.url}/api/docs/${doc.id}/lp`
    for (const sid of [elsewhere, `node1.${elsewhere.split('.')[1] ?? ''}`, 'not-a-session']) {
      const answers = [
        await fetch(`${base}/${sid}?k=${doc.editToken}&ack=0&wait=0`),
        await fetch(`${base}/${sid}?k=${doc.editToken}&seq=1`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/octet-stream' },
          body: new Uint8Array(),
        }),
        await fetch(`${base}/${sid}?k=${doc.editToken}`, { method: 'DELETE' }),
      ]
      for (const answer of answers) {
        expect(answer.status, sid).toBe(CLOSE_REASONS.sessionExpired.status)
        expect(await answer.json()).toEqual({ error: CLOSE_REASONS.sessionExpired.text, code: 4410 })
      }
    }
  })
})
