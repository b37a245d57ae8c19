import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'

const BIN = fileURLToPath(new URL('../../src/bin.ts', import.meta.url))
const children: ChildProcess[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

interface Started {
  readonly child: ChildProcess
  readonly url: string
}

function run(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN], {
    env: { ...process.env, LOG_LEVEL: 'silent', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  return child
}

function started(child: ChildProcess): Promise<Started> {
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /open (http:\/\/\S+)/.exec(out)
      if (match?.[1]) resolve({ child, url: match[1] })
    })
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
  })
}

function exited(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })))
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-proc-'))
  dirs.push(dir)
  return dir
}

describe('server process', () => {
  it('[R15] a second server on the same DATA_DIR exits at once with a clear message', async () => {
    const dataDir = await tempDir()
    const first = await started(run({ PORT: '0', DATA_DIR: dataDir }))
    const second = run({ PORT: '0', DATA_DIR: dataDir })
    const result = await exited(second)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('in use by another Tandem process')
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200)
  })

  it('[R14] a bad config value stops the server naming the variable', async () => {
    const result = await exited(run({ PORT: 'eighty', DATA_DIR: await tempDir() }))
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('PORT')
  })

  it('[R6] SIGTERM shuts down cleanly with exit 0', async () => {
    const { child } = await started(run({ PORT: '0', DATA_DIR: await tempDir() }))
    const result = exited(child)
    child.kill('SIGTERM')
    expect((await result).code).toBe(0)
  })
})

describe('graceful shutdown', () => {
  it('[R35] SIGTERM tells every client to come back later, keeps every accepted edit, exits 0', async () => {
    const dataDir = await tempDir()
    const { child, url } = await started(run({ PORT: '0', DATA_DIR: dataDir, POLL_TIMEOUT_MS: '20000' }))
    const { SyncProvider } = await import('@tandem/client/sync')
    const { default: WebSocket } = await import('ws')
    const Y = await import('yjs')
    const doc = (await (await fetch(`${url}/api/docs`, { method: 'POST' })).json()) as {
      id: string
      editToken: string
      viewToken: string
    }
    const editor = new SyncProvider({
      doc: new Y.Doc(),
      docId: doc.id,
      token: doc.editToken,
      baseUrl: url,
      transport: 'websocket',
      WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket,
    })
    await editor.whenSynced()
    const socket = new WebSocket(`${url.replace('http', 'ws')}/ws/${doc.id}?k=${doc.viewToken}`)
    const socketClosed = new Promise<number>((resolve) => socket.once('close', resolve))
    const stream = await fetch(`${url}/api/docs/${doc.id}/events?k=${doc.viewToken}`)
    const streamText = stream.text()
    const session = (await (
      await fetch(`${url}/api/docs/${doc.id}/lp?k=${doc.viewToken}`, { method: 'POST' })
    ).json()) as {
      sessionId: string
    }
    const poll = `${url}/api/docs/${doc.id}/lp/${session.sessionId}?k=${doc.viewToken}`
    editor.doc.getText('t').insert(0, 'written just before SIGTERM')
    await vi.waitFor(() => expect(editor.status.save).toBe('saved'))
    // Drain what the session has (short polls), then leave one poll held on the server.
    let ack = '0'
    for (;;) {
      const response = await fetch(`${poll}&ack=${ack}&wait=0`)
      await response.arrayBuffer()
      if (response.status !== 200) break
      ack = response.headers.get('X-Tandem-Batch') ?? ack
    }
    const held = fetch(`${poll}&ack=${ack}`)
    await vi.waitFor(async () => {
      const meta = (await (await fetch(`${url}/api/docs/${doc.id}?k=${doc.viewToken}`)).json()) as {
        viewers: number
      }
      expect(meta.viewers).toBe(3)
    })

    const exit = exited(child)
    child.kill('SIGTERM')

    expect(await socketClosed).toBe(1012)
    expect(await streamText).toContain('event: close\ndata: {"code":1012')
    const heldResponse = await held
    expect(heldResponse.status).toBe(503)
    expect(heldResponse.headers.get('retry-after')).toBe('2')
    expect((await exit).code).toBe(0)
    editor.destroy()

    const again = await started(run({ PORT: '0', DATA_DIR: dataDir }))
    const reader = new SyncProvider({
      doc: new Y.Doc(),
      docId: doc.id,
      token: doc.viewToken,
      mode: 'view',
      baseUrl: again.url,
      transport: 'sse',
    })
    await reader.whenSynced()
    expect(reader.doc.getText('t').toString()).toBe('written just before SIGTERM')
    reader.destroy()
    // Two real server processes start under tsx: generous on a loaded 2-core CI machine.
  }, 60_000)
})
