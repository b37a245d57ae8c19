import { it } from 'vitest'
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createDoc } from './support/clients.ts'
import { residentBytes } from './support/serverProcess.ts'

it('diag', async () => {
  const BIN = fileURLToPath(new URL('../../src/bin.ts', import.meta.url))
  const args = process.env.SPROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/scratch/sprof'] : []
  const child = spawn(process.execPath, [...args, '--import', 'tsx', BIN], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: mkdtempSync(join(tmpdir(), 'diag-')), LOG_LEVEL: 'error', MAX_MESSAGE_BYTES: '65536', MAX_QUEUED_BYTES: '262144' }, stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise<string>((resolve) => { let out = ''; child.stdout.on('data', (c: Buffer) => { out += c; const m = /open (http:\/\/\S+)/.exec(out); if (m?.[1]) resolve(m[1]) }) })
  const port = new URL(url).port
  const d = await createDoc(url)
  const script = fileURLToPath(new URL('./scratch-flooder.ts', import.meta.url))
  const P = Number(process.env.P ?? 2), C = Number(process.env.C ?? 1), MS = process.env.MS ?? '15000'
  const kids = Array.from({ length: P }, () => spawn(process.execPath, ['--import', 'tsx', script, `ws://127.0.0.1:${port}/ws/${d.id}?k=${d.editToken}&ack=1`, MS, String(C)], { stdio: ['ignore', 'inherit', 'inherit'] }))
  const t0 = Date.now()
  let peak = 0
  for (let i = 0; i < Number(MS) / 1000 + Number(process.env.AFTER ?? 25); i++) {
    await new Promise((r) => setTimeout(r, 1000))
    const rss = await residentBytes(child.pid!); peak = Math.max(peak, rss)
    const t = Date.now()
    const h = await fetch(`${url}/healthz`).then((r) => r.status, (e) => String(e))
    console.log(`${((Date.now() - t0) / 1000).toFixed(1)}s server rss=${(rss / 1e6).toFixed(0)}MB healthz=${h} in ${Date.now() - t}ms`)
  }
  console.log('PEAK', (peak / 1e6).toFixed(0))
  for (const k of kids) k.kill()
  child.kill('SIGINT'); await new Promise((r) => setTimeout(r, 300)); child.kill('SIGINT')
  await new Promise((r) => child.once('exit', r))
}, 300000)
