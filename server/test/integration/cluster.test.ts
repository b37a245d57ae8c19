import type * as awarenessProtocol from 'y-protocols/awareness'
import { describe, expect, it } from 'vitest'
import { createDoc, eventually, ourClient, stockClient, text, whenStockSynced } from './support/clients.ts'
import { startCluster } from './support/cluster.ts'

/** Three real server processes on one PostgreSQL database and one Redis (SPEC R64–R66). */
describe('a three-node cluster', () => {
  it('[R65][R66] stock clients, our clients over WebSocket and long polling, and an SSE viewer spread over three nodes converge, with presence everywhere', async () => {
    const cluster = await startCluster({ size: 3 })
    const [one, two, three] = [cluster.node(0), cluster.node(1), cluster.node(2)]
    const doc = await createDoc(one.url)
    const ws = (url: string): string => url.replace('http', 'ws') + '/ws'
    const stockOnOne = stockClient(ws(one.url), doc.id, doc.editToken)
    const stockOnThree = stockClient(ws(three.url), doc.id, doc.editToken)
    const oursOnTwo = ourClient(two.url, doc.id, doc.editToken, { transport: 'websocket' })
    const pollerOnThree = ourClient(three.url, doc.id, doc.editToken, { transport: 'longpoll' })
    const viewerOnOne = ourClient(one.url, doc.id, doc.viewToken, { mode: 'view', viewerName: 'Vera' })
    await Promise.all([whenStockSynced(stockOnOne), whenStockSynced(stockOnThree)])
    await Promise.all([oursOnTwo.whenSynced(), pollerOnThree.whenSynced(), viewerOnOne.whenSynced()])

    stockOnOne.doc.getText('t').insert(0, 'one ')
    stockOnThree.doc.getText('t').insert(0, 'three ')
    oursOnTwo.doc.getText('t').insert(0, 'two ')
    pollerOnThree.doc.getText('t').insert(0, 'poll ')
    const everyone = [stockOnOne.doc, stockOnThree.doc, oursOnTwo.doc, pollerOnThree.doc, viewerOnOne.doc]
    await eventually(() => {
      const first = text(stockOnOne.doc)
      for (const word of ['one ', 'two ', 'three ', 'poll ']) expect(first).toContain(word)
      for (const replica of everyone) expect(text(replica)).toBe(first)
    }, 10_000)

    // A stock client's presence on node 1 reaches a stock client on node 3, and the dashboard of
    // node 2 counts everyone in the cluster.
    stockOnOne.awareness.setLocalStateField('user', { name: 'Stock One' })
    await eventually(() => expect(awarenessNames(stockOnThree.awareness)).toContain('Stock One'))
    await eventually(async () => {
      const meta = (await (await fetch(`${two.url}/api/docs/${doc.id}?k=${doc.viewToken}`)).json()) as {
        connections: number
        viewers: number
        editorNames: string[]
        viewerNames: string[]
      }
      expect(meta.connections).toBe(5)
      expect(meta.viewers).toBe(1)
      expect(meta.viewerNames).toEqual(['Vera'])
      expect(meta.editorNames).toContain('Stock One')
    }, 10_000)
    // Stock clients re-broadcast what they receive: nobody was closed for it (R32).
    expect(stockOnOne.wsconnected && stockOnThree.wsconnected).toBe(true)

    // A departure on node 1 disappears on node 3.
    stockOnOne.destroy()
    await eventually(() => expect(awarenessNames(stockOnThree.awareness)).not.toContain('Stock One'))
  })

  it('[R19][R64] a share link made on one node opens the document on every node; a reset on one closes it on all', async () => {
    const cluster = await startCluster({ size: 2 })
    const doc = await createDoc(cluster.node(0).url)
    const onSecond = ourClient(cluster.node(1).url, doc.id, doc.editToken, { transport: 'websocket' })
    await onSecond.whenSynced()
    const reset = await fetch(`${cluster.node(0).url}/api/docs/${doc.id}/links/reset?k=${doc.editToken}`, {
      method: 'POST',
    })
    expect(reset.status).toBeLessThan(300)
    await eventually(() => expect(onSecond.status.connection.kind).toBe('refused'), 10_000)
  })
})

function awarenessNames(awareness: awarenessProtocol.Awareness): string[] {
  return [...awareness.getStates().values()].flatMap((state) => {
    const name = (state as { user?: { name?: unknown } }).user?.name
    return typeof name === 'string' ? [name] : []
  })
}
