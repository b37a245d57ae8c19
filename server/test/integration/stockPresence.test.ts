import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { createDoc, eventually, ourClient, stockClient, text, whenStockSynced } from './support/clients.ts'
import { startTcpProxy } from './support/tcpProxy.ts'
import { startTestServer } from './support/testServer.ts'

/** Every close a stock provider saw that the server initiated (an event with a code). */
function serverCloses(provider: WebsocketProvider): number[] {
  const codes: number[] = []
  provider.on('connection-close', (event) => {
    // 1006 is the client's own note that its socket died, not a close the server sent.
    if (event && event.code !== 1006) codes.push(event.code)
  })
  return codes
}

function names(provider: { awareness: { getStates(): Map<number, Record<string, unknown>> } }): string[] {
  const found: string[] = []
  for (const state of provider.awareness.getStates().values()) {
    const user = state['user'] as { name?: unknown } | undefined
    const viewer = state['viewer'] as { name?: unknown } | undefined
    if (typeof user?.name === 'string') found.push(user.name)
    if (typeof viewer?.name === 'string') found.push(`viewer:${viewer.name}`)
  }
  return found.sort()
}

describe('stock y-websocket clients with presence', () => {
  it('[R32][R36] two stock clients: one has presence, the other types; neither is closed', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const ada = stockClient(server.wsUrl, doc.id, doc.editToken)
    const bob = stockClient(server.wsUrl, doc.id, doc.editToken)
    const closes = [serverCloses(ada), serverCloses(bob)]
    await Promise.all([whenStockSynced(ada), whenStockSynced(bob)])
    ada.awareness.setLocalStateField('user', { name: 'Ada' })
    await eventually(() => expect(names(bob)).toEqual(['Ada']))
    for (const word of ['one ', 'two ', 'three']) {
      bob.doc.getText('t').insert(text(bob.doc).length, word)
      ada.awareness.setLocalStateField('cursor', { at: text(ada.doc).length })
    }
    await eventually(() => expect(text(ada.doc)).toBe('one two three'))
    expect(closes).toEqual([[], []])
    expect(ada.wsconnected && bob.wsconnected).toBe(true)
  })

  it('[R1][R32] three stock writers, our client and a viewer converge with agreeing presence, nobody closed', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const stock = ['S1', 'S2', 'S3'].map((name) => {
      const provider = stockClient(server.wsUrl, doc.id, doc.editToken)
      provider.awareness.setLocalStateField('user', { name })
      return provider
    })
    const closes = stock.map(serverCloses)
    const ours = ourClient(server.url, doc.id, doc.editToken)
    ours.awareness.setLocalStateField('user', { name: 'Tandem' })
    const viewer = ourClient(server.url, doc.id, doc.viewToken, { mode: 'view', viewerName: 'Vera' })
    await Promise.all([...stock.map(whenStockSynced), ours.whenSynced(), viewer.whenSynced()])
    const everyone = ['S1', 'S2', 'S3', 'Tandem', 'viewer:Vera']
    await eventually(() => {
      for (const client of [...stock, ours, viewer]) expect(names(client)).toEqual(everyone)
    })
    const writers = [...stock.map((provider) => provider.doc), ours.doc]
    for (let round = 0; round < 40; round++) {
      writers.forEach((writer, index) => writer.getText('t').insert(0, `${index}`))
      stock.forEach((provider, index) => provider.awareness.setLocalStateField('cursor', { round, index }))
      ours.awareness.setLocalStateField('cursor', { round })
      await new Promise((resolve) => setImmediate(resolve))
    }
    await eventually(() => {
      const expected = text(ours.doc)
      expect(expected).toHaveLength(160)
      for (const client of [...writers, viewer.doc]) expect(text(client)).toBe(expected)
    })
    await eventually(() => {
      for (const client of [...stock, ours, viewer]) expect(names(client)).toEqual(everyone)
    })
    expect(closes).toEqual([[], [], []])
    expect(ours.status.connection.kind).toBe('connected')
  })
})

describe('a half-open connection (the network switched under the client)', () => {
  it('[R36] our client reconnects with its writer key: the stale connection is superseded, nothing typed is lost', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const proxy = await startTcpProxy(Number(new URL(server.url).port))
    const ada = ourClient(proxy.url('http'), doc.id, doc.editToken)
    ada.awareness.setLocalStateField('user', { name: 'Ada' })
    const bob = ourClient(server.url, doc.id, doc.editToken)
    await Promise.all([ada.whenSynced(), bob.whenSynced()])
    ada.doc.getText('t').insert(0, 'before ')
    await eventually(() => expect(text(bob.doc)).toBe('before '))
    proxy.cutClientSide()
    ada.doc.getText('t').insert(7, 'during ')
    await eventually(() => expect(proxy.accepted).toBe(2))
    ada.doc.getText('t').insert(14, 'after')
    await eventually(() => expect(text(bob.doc)).toBe('before during after'))
    await eventually(() => expect(ada.status.save).toBe('saved'))
    expect(ada.status.connection.kind).toBe('connected')
    await eventually(() => expect(names(bob)).toEqual(['Ada']))
  })

  it('[R36] a stock client reconnects before the server noticed: its old connection is checked and dropped, its edits and presence return', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const proxy = await startTcpProxy(Number(new URL(server.url).port))
    const ydoc = new Y.Doc()
    const ada = new WebsocketProvider(proxy.url('ws', '/ws'), doc.id, ydoc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      params: { k: doc.editToken },
      disableBc: true,
    })
    const closes = serverCloses(ada)
    ada.awareness.setLocalStateField('user', { name: 'Ada' })
    const bob = ourClient(server.url, doc.id, doc.editToken)
    await Promise.all([whenStockSynced(ada), bob.whenSynced()])
    ydoc.getText('t').insert(0, 'before ')
    await eventually(() => expect(text(bob.doc)).toBe('before '))
    proxy.cutClientSide()
    ydoc.getText('t').insert(7, 'during ')
    await eventually(() => expect(proxy.accepted).toBe(2))
    ydoc.getText('t').insert(14, 'after')
    await eventually(() => expect(text(bob.doc)).toBe('before during after'), 20_000)
    await eventually(() => expect(names(bob)).toEqual(['Ada']), 20_000)
    expect(closes).toEqual([])
    ada.destroy()
    ydoc.destroy()
  }, 30_000)
})
