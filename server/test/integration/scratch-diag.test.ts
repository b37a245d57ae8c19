import { it } from 'vitest'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createDoc } from './support/clients.ts'
import { residentBytes, startServerProcess, tempDataDir } from './support/serverProcess.ts'

it('diag', async () => {
  const server = await startServerProcess({ DATA_DIR: await tempDataDir(), LOG_LEVEL: 'error', MAX_MESSAGE_BYTES: '65536', MAX_QUEUED_BYTES: '262144' })
  const d = await createDoc(server.url)
  const script = fileURLToPath(new URL('./scratch-flooder.ts', import.meta.url))
  const P = Number(process.env.P ?? 2), C = Number(process.env.C ?? 1), MS = process.env.MS ?? '15000'
  const kids = Array.from({ length: P }, () => spawn(process.execPath, ['--import', 'tsx', script, `ws://127.0.0.1:${server.port}/ws/${d.id}?k=${d.editToken}&ack=1`, MS, String(C)], { stdio: ['ignore', 'inherit', 'inherit'] }))
  const t0 = Date.now()
  let peak = 0
  for (let i = 0; i < Number(MS) / 1000 + 25; i++) {
    await new Promise((r) => setTimeout(r, 1000))
    const rss = await residentBytes(server.pid); peak = Math.max(peak, rss)
    const t = Date.now()
    const h = await fetch(`${server.url}/healthz`).then((r) => r.status, (e) => String(e))
    console.log(`${((Date.now() - t0) / 1000).toFixed(1)}s server rss=${(rss / 1e6).toFixed(0)}MB healthz=${h} in ${Date.now() - t}ms`)
  }
  console.log('PEAK', (peak / 1e6).toFixed(0))
  for (const k of kids) k.kill()
}, 300000)
