import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createDoc } from './support/clients.ts'
import { within } from './support/serverProcess.ts'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const BUILD_MS = 120_000

/**
 * The compiled server, as the Docker image runs it (SPEC R68): `npm run build:server` into a
 * temporary directory, then plain `node <out>/server/src/bin.js`, no tsx. The directory is made
 * under the repository's node_modules/.cache because the build's third-party imports resolve
 * from the node_modules above it, as they do from /app/node_modules in the image.
 */
describe('compiled build', () => {
  let out = ''

  beforeAll(async () => {
    const cache = join(root, 'node_modules', '.cache')
    await mkdir(cache, { recursive: true })
    out = await mkdtemp(join(cache, 'tandem-build-'))
    const built = spawnSync(process.execPath, ['--import', 'tsx', 'server/scripts/build.ts', '--out', out], {
      cwd: root,
      encoding: 'utf8',
    })
    expect(built.status, `${built.stdout}\n${built.stderr}`).toBe(0)
  }, BUILD_MS)

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true })
  })

  it('[R68] emits JavaScript only, with the workspace packages it imports linked to their compiled code', () => {
    const files = readdirSync(out, { recursive: true, encoding: 'utf8' }).filter(
      (file) => !file.startsWith('node_modules'),
    )
    expect(files).toContain(join('server', 'src', 'bin.js'))
    expect(files).toContain(join('shared', 'src', 'index.js'))
    expect(files).toContain(join('client', 'src', 'editor', 'schema.js'))
    expect(files.filter((file) => file.endsWith('.ts'))).toEqual([])
    for (const name of ['shared', 'client'])
      expect(existsSync(join(out, 'node_modules', '@tandem', name, 'package.json'))).toBe(true)
  })

  it('[R68] starts with plain node, serves health, documents, exports and WebSockets, and stops on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tandem-compiled-'))
    // NODE_OPTIONS cleared: nothing may load a TypeScript loader behind the test's back.
    const child = spawn(process.execPath, [join(out, 'server', 'src', 'bin.js')], {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        PORT: '0',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const url = await within(
        new Promise<string>((resolve, reject) => {
          child.stdout.on('data', (chunk: Buffer) => {
            output += chunk.toString()
            const match = /open (http:\/\/\S+)/.exec(output)
            if (match?.[1]) resolve(match[1])
          })
          void exited.then((code) => reject(new Error(`exited (${code}) before it was ready:\n${output}`)))
        }),
        15_000,
        'the compiled server printing its URL',
      )
      const health = await fetch(`${url}/healthz`)
      expect(health.status).toBe(200)
      expect(await health.json()).toEqual({ status: 'ok' })
      const doc = await createDoc(url)
      // The exporter is imported on first use and renders with the compiled client schema (R59).
      const exported = await fetch(`${url}/api/docs/${doc.id}/content?format=html&k=${doc.viewToken}`)
      expect(exported.status, output).toBe(200)
      const socket = new WebSocket(`${url.replace('http', 'ws')}/ws/${doc.id}?k=${doc.editToken}`)
      await once(socket, 'open')
      socket.close()
      child.kill('SIGTERM')
      expect(await within(exited, 10_000, 'the compiled server exiting')).toBe(0)
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
