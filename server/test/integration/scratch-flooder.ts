import WebSocket from 'ws'
import * as Y from 'yjs'
import { encodeMessage, decodeMessage } from '@tandem/shared'
const url = process.argv[2]!
const ms = Number(process.argv[3] ?? 15000)
const conns = Number(process.argv[4] ?? 1)
const stats = { sent: 0, maxseq: 0, closes: [] as number[] }
async function one() {
  const ws = new WebSocket(url)
  ws.on('message', (b: Buffer) => {
    if (b[0] === 100) {
      const m = decodeMessage(new Uint8Array(b))
      if (m.type === 'saved') stats.maxseq = Math.max(stats.maxseq, m.seq)
    }
  })
  ws.on('close', (c) => stats.closes.push(c))
  ws.on('error', () => undefined)
  await new Promise((r) => ws.once('open', r))
  const doc = new Y.Doc()
  doc.on('update', (u: Uint8Array) => {
    if (ws.readyState === 1) ws.send(encodeMessage({ type: 'sync-update', update: u }))
  })
  const map = doc.getMap('flood')
  const text = doc.getText('t')
  const end = Date.now() + ms
  while (Date.now() < end && ws.readyState === 1) {
    for (let i = 0; i < 50; i++) {
      if (i % 10 === 0) text.insert(0, 'x')
      else map.set(`k${i % 4}`, Math.random().toString(36))
    }
    stats.sent += 50
    while (ws.readyState === 1 && ws.bufferedAmount > 256 * 1024) await new Promise((r) => setImmediate(r))
    await new Promise((r) => setImmediate(r))
  }
  ws.terminate()
}
const timer = setInterval(
  () =>
    console.log(
      `flooder ${process.pid} sent=${stats.sent} maxseq=${stats.maxseq} closes=${stats.closes.join(',')}`,
    ),
  2000,
)
await Promise.all(Array.from({ length: conns }, one))
clearInterval(timer)
console.log(
  `flooder ${process.pid} done sent=${stats.sent} maxseq=${stats.maxseq} closes=${stats.closes.join(',')}`,
)
process.exit(0)
