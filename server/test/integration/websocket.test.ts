import { CLOSE_REASONS } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createDoc, eventually, ourClient, stockClient, text, whenStockSynced } from './support/clients.ts'
import { startTestServer } from './support/testServer.ts'

describe('WebSocket transport on a real server', () => {
  it('[R1] two of our providers converge on concurrent edits', async () => {
    const server = await startTestServer()
    const d = await createDoc(server.url)
    const a = ourClient(server.url, d.id, d.editToken)
    const b = ourClient(server.url, d.id, d.editToken)
    await Promise.all([a.whenSynced(), b.whenSynced()])
    a.doc.getText('t').insert(0, 'alpha ')
    b.doc.getText('t').insert(0, 'beta ')
    await eventually(() => {
      expect(text(a.doc)).toBe(text(b.doc))
      expect(text(a.doc)).toContain('alpha')
      expect(text(a.doc)).toContain('beta')
    })
  })

  it('[R1] our provider and the stock y-websocket provider converge both ways', async () => {
    const server = await startTestServer()
    const d = await createDoc(server.url)
    const ours = ourClient(server.url, d.id, d.editToken)
    const stock = stockClient(server.wsUrl, d.id, d.editToken)
    await Promise.all([ours.whenSynced(), whenStockSynced(stock)])
    ours.doc.getText('t').insert(0, 'from ours;')
    await eventually(() => expect(text(stock.doc)).toBe('from ours;'))
    stock.doc.getText('t').insert(text(stock.doc).length, 'from stock;')
    await eventually(() => expect(text(ours.doc)).toBe('from ours;from stock;'))
  })

  it('[R1][R7] a stock client never receives a message type it does not know', async () => {
    const server = await startTestServer()
    const d = await createDoc(server.url)
    const ours = ourClient(server.url, d.id, d.editToken)
    await ours.whenSynced()
    const socket = new WebSocket(`${server.wsUrl}/${d.id}?k=${d.editToken}`)
    const types: number[] = []
    socket.on('message', (data: Buffer) => types.push(data[0] ?? -1))
    await new Promise((resolve) => socket.once('open', resolve))
    ours.doc.getText('t').insert(0, 'x')
    await eventually(() => expect(ours.status.save).toBe('saved'))
    await eventually(() => expect(types).toContain(0))
    // A raw client that did not opt in: only sync (0) and awareness (1).
    expect(types.every((type) => type === 0 || type === 1)).toBe(true)
    socket.close()
  })

  it('[R4] awareness appears for others and is removed when the peer disconnects', async () => {
    const server = await startTestServer()
    const d = await createDoc(server.url)
    const a = ourClient(server.url, d.id, d.editToken)
    const b = ourClient(server.url, d.id, d.editToken)
    await Promise.all([a.whenSynced(), b.whenSynced()])
    a.awareness.setLocalStateField('user', { name: 'Ann', color: '#f00' })
    await eventually(() =>
      expect(b.awareness.getStates().get(a.doc.clientID)).toMatchObject({ user: { name: 'Ann' } }),
    )
    a.destroy()
    await eventually(() => expect(b.awareness.getStates().has(a.doc.clientID)).toBe(false))
  })

  it('[R4] a stock client’s awareness is removed when its socket drops without a goodbye', async () => {
    const server = await startTestServer()
    const d = await createDoc(server.url)
    const ours = ourClient(server.url, d.id, d.editToken)
    const stock = stockClient(server.wsUrl, d.id, d.editToken)
    await Promise.all([ours.whenSynced(), whenStockSynced(stock)])
    stock.awareness.setLocalStateField('user', { name: 'Stocky' })
    const stockId = stock.doc.clientID
    await eventually(() => expect(ours.awareness.getStates().has(stockId)).toBe(true))
    // Terminate the socket under the provider: no awareness removal is sent.
    stock.shouldConnect = false
    ;(stock.ws as unknown as WebSocket | null)?.terminate()
    await eventually(() => expect(ours.awareness.getStates().has(stockId)).toBe(false))
  })

  it('[R6][R7] every edit acked as saved survives a server restart on the same DATA_DIR', async () => {
    let server = await startTestServer()
    const d = await createDoc(server.url)
    const writer = ourClient(server.url, d.id, d.editToken)
    await writer.whenSynced()
    for (let i = 0; i < 50; i++) writer.doc.getText('t').insert(text(writer.doc).length, `${i},`)
    await eventually(() => expect(writer.status.save).toBe('saved'))
    const expected = text(writer.doc)
    writer.destroy()
    server = await server.restart()
    const reader = ourClient(server.url, d.id, d.editToken)
    await reader.whenSynced()
    expect(text(reader.doc)).toBe(expected)
  })

  it('[R12] edits made while the server is down are kept and synced after it returns', async () => {
    let server = await startTestServer()
    const d = await createDoc(server.url)
    const writer = ourClient(server.url, d.id, d.editToken)
    await writer.whenSynced()
    writer.doc.getText('t').insert(0, 'before;')
    await eventually(() => expect(writer.status.save).toBe('saved'))
    await server.close()
    await eventually(() => expect(writer.status.connection.kind).not.toBe('connected'))
    writer.doc.getText('t').insert(text(writer.doc).length, 'while down;')
    expect(writer.status.save).toBe('saving')
    server = await startTestServer({ PORT: String(server.port) }, { dataDir: server.dataDir })
    await eventually(() => expect(writer.status.save).toBe('saved'), 10_000)
    const reader = ourClient(server.url, d.id, d.editToken)
    await reader.whenSynced()
    expect(text(reader.doc)).toBe('before;while down;')
  })

  it('[R3] refuses invalid document ids with HTTP 400 before upgrading', async () => {
    const server = await startTestServer()
    const d = await createDoc(server.url)
    for (const path of ['/ws/..%2Fetc', '/ws/a!b', `/ws/${'x'.repeat(65)}`, '/ws/']) {
      const status = await new Promise<number>((resolve) => {
        const socket = new WebSocket(`${server.wsUrl.replace('/ws', '')}${path}?k=${d.editToken}`)
        socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0))
        socket.on('open', () => resolve(101))
        socket.on('error', () => undefined)
      })
      expect(status, path).toBe(CLOSE_REASONS.invalidDocId.status)
    }
  })

  it('[R11] a peer sending garbage is closed with 4402; others stay connected and keep editing', async () => {
    const server = await startTestServer()
    const d = await createDoc(server.url)
    const good = ourClient(server.url, d.id, d.editToken)
    const other = ourClient(server.url, d.id, d.editToken)
    await Promise.all([good.whenSynced(), other.whenSynced()])
    const bad = new WebSocket(`${server.wsUrl}/${d.id}?k=${d.editToken}`)
    await new Promise((resolve) => bad.once('open', resolve))
    const closed = new Promise<number>((resolve) => bad.once('close', resolve))
    bad.send(new Uint8Array([0, 2, 50, 1, 2, 3]))
    expect(await closed).toBe(CLOSE_REASONS.malformedMessage.code)
    good.doc.getText('t').insert(0, 'still fine')
    await eventually(() => expect(text(other.doc)).toBe('still fine'))
    expect(good.status.connection.kind).toBe('connected')
  })

  it('[R11] a text frame is refused with 4402', async () => {
    const server = await startTestServer()
    const d = await createDoc(server.url)
    const socket = new WebSocket(`${server.wsUrl}/${d.id}?k=${d.editToken}`)
    await new Promise((resolve) => socket.once('open', resolve))
    const closed = new Promise<number>((resolve) => socket.once('close', resolve))
    socket.send('hello')
    expect(await closed).toBe(CLOSE_REASONS.malformedMessage.code)
  })

  it('[R11] a message above MAX_MESSAGE_BYTES closes that socket with 1009', async () => {
    const server = await startTestServer({ MAX_MESSAGE_BYTES: '4096' })
    const d = await createDoc(server.url)
    const socket = new WebSocket(`${server.wsUrl}/${d.id}?k=${d.editToken}`)
    await new Promise((resolve) => socket.once('open', resolve))
    const closed = new Promise<number>((resolve) => socket.once('close', resolve))
    socket.on('error', () => undefined)
    socket.send(new Uint8Array(10_000))
    expect(await closed).toBe(CLOSE_REASONS.messageTooBig.code)
  })
})
