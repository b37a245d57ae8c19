/**
 * What SYNC_WRITES=1 (fsync per group commit) costs: latency from sending an update to its
 * `saved` ack, sequential and under a burst, against the default (written to the OS, safe from
 * kill -9). Runs the real server in a child process on a temp DATA_DIR.
 *
 *   npx tsx bench/durability.ts
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeMessage, encodeMessage } from '@tandem/shared'
import WebSocket from 'ws'
import * as Y from 'yjs'

const BIN = fileURLToPath(new URL('../server/src/bin.ts', import.meta.url))

async function withServer<T>(env: Record<string, string>, run: (url: string) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tandem-bench-'))
  const child = spawn(process.execPath, ['--import', 'tsx', BIN], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /open (http:\/\/\S+)/.exec(chunk.toString())
      if (match?.[1]) resolve(match[1])
    })
  })
  try {
    return await run(url)
  } finally {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
    await rm(dataDir, { recursive: true, force: true })
  }
}

/** A raw protocol client that sends one-character inserts and records the ack latency of each. */
async function writer(url: string, docId: string, count: number, isSequential: boolean): Promise<number[]> {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/ws/${docId}?ack=1`)
  await new Promise((resolve) => socket.once('open', resolve))
  const doc = new Y.Doc()
  const sentAt: number[] = []
  const latencies: number[] = []
  let acked = 0
  let onAck: (() => void) | null = null
  socket.on('message', (data: Buffer) => {
    const message = decodeMessage(new Uint8Array(data))
    if (message.type !== 'saved') return
    const now = performance.now()
    for (; acked < message.seq; acked++) latencies.push(now - (sentAt[acked] ?? now))
    onAck?.()
  })
  doc.on('update', (update: Uint8Array) => {
    sentAt.push(performance.now())
    socket.send(encodeMessage({ type: 'sync-update', update }))
  })
  const allAcked = (n: number): Promise<void> =>
    new Promise((resolve) => {
      onAck = () => acked >= n && resolve()
      onAck()
    })
  for (let i = 0; i < count; i++) {
    doc.getText('t').insert(i, 'x')
    if (isSequential) await allAcked(i + 1)
  }
  await allAcked(count)
  socket.close()
  return latencies
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
}

async function measure(syncWrites: '0' | '1'): Promise<Record<string, string>> {
  return withServer({ SYNC_WRITES: syncWrites }, async (url) => {
    const sequential = await writer(url, 'seq', 300, true)
    const start = performance.now()
    const burst = (
      await Promise.all(Array.from({ length: 10 }, (_, i) => writer(url, `burst${i}`, 500, false)))
    ).flat()
    const seconds = (performance.now() - start) / 1000
    return {
      SYNC_WRITES: syncWrites,
      'sequential ack p50 ms': percentile(sequential, 50).toFixed(2),
      'sequential ack p99 ms': percentile(sequential, 99).toFixed(2),
      'burst ack p50 ms': percentile(burst, 50).toFixed(2),
      'burst ack p99 ms': percentile(burst, 99).toFixed(2),
      'burst acked updates/s': (burst.length / seconds).toFixed(0),
    }
  })
}

const rows = [await measure('0'), await measure('1')]
console.table(rows)
