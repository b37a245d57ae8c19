import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { REPO_ROOT } from '../paths.ts'
import type { PeerId } from '../schema.ts'
import { sleep } from '../util/clock.ts'
import { processCpuMs, processRssBytes } from '../util/proc.ts'
import { PEERS, type PeerSpec } from './peers.ts'

const PRELOAD = fileURLToPath(new URL('./preload.mjs', import.meta.url))
const READY_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 10_000

export interface PeerOptions {
  /** Environment on top of the peer's own (e.g. SYNC_WRITES). */
  readonly env?: Record<string, string>
  /** Node flags before the peer's script (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[]
}

export interface MemoryUsage {
  readonly rssBytes: number
  readonly heapUsedBytes: number
}

/** A TCP port nobody listens on now (the cluster bench also gives one to each node's /metrics). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

/** A peer server in its own process, on a free port and its own data directory. */
export class PeerProcess {
  #child: ChildProcess
  #output: string[] = []

  private constructor(
    readonly spec: PeerSpec,
    readonly port: number,
    readonly dataDir: string,
    private readonly options: PeerOptions,
  ) {
    this.#child = this.#spawn()
  }

  /** Starts a fresh server: new port, empty data directory. */
  static async start(id: PeerId, options: PeerOptions = {}): Promise<PeerProcess> {
    const dataDir = await mkdtemp(join(tmpdir(), `bench-${id}-`))
    const peer = new PeerProcess(PEERS[id], await freePort(), dataDir, options)
    await peer.#whenReady()
    return peer
  }

  get pid(): number {
    return this.#child.pid ?? -1
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`
  }

  cpuMs(): number {
    return processCpuMs(this.pid)
  }

  rssBytes(): number {
    return processRssBytes(this.pid)
  }

  /** RSS and V8 heap after a full garbage collection (asked over IPC, see preload.mjs). */
  async memory(): Promise<MemoryUsage> {
    const answer = await this.#ask<{ heapUsed?: number }>({ type: 'bench:memory' })
    return { rssBytes: this.rssBytes(), heapUsedBytes: answer.heapUsed ?? NaN }
  }

  /** Writes a V8 heap snapshot of the server to `file` (for Chrome DevTools' Memory tab). */
  async heapSnapshot(file: string): Promise<void> {
    await this.#ask({ type: 'bench:heap-snapshot', file })
  }

  #ask<T>(request: { type: string; file?: string }): Promise<T> {
    const child = this.#child
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${request.type} answer from the server`)), 60_000)
      const onMessage = (message: { type?: string }): void => {
        if (message.type !== request.type) return
        clearTimeout(timer)
        child.off('message', onMessage)
        resolve(message as T)
      }
      child.on('message', onMessage)
      child.send(request)
    })
  }

  /** Stops the server as an operator would (SIGTERM, SIGKILL if it hangs) and starts it again on the same data. */
  async restart(): Promise<void> {
    await this.#terminate()
    this.#output = []
    this.#child = this.#spawn()
    await this.#whenReady()
  }

  /** Stops the server and deletes its data. */
  async stop(): Promise<void> {
    await this.#terminate()
    await rm(this.dataDir, { recursive: true, force: true })
  }

  /** The server's recent output, for the error of a failed run. */
  get output(): string {
    return this.#output.join('').slice(-2000)
  }

  #spawn(): ChildProcess {
    const args = ['--expose-gc', '--import', PRELOAD, ...(this.options.nodeArgs ?? []), ...this.spec.args()]
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      // Not the harness's environment: a SYNC_WRITES or LOG_LEVEL in the shell would silently change
      // a peer's configuration. Only what a process needs, the peer's own settings and --env.
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: process.env['HOME'] ?? '/tmp',
        ...this.spec.env(this.port, this.dataDir),
        ...this.options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    // Always drained: a full pipe would block the server.
    const keep = (chunk: Buffer): void => {
      this.#output.push(chunk.toString())
      if (this.#output.length > 50) this.#output.shift()
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    return child
  }

  async #whenReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS
    for (;;) {
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
        throw new Error(`${this.spec.id} exited during startup:\n${this.output}`)
      }
      try {
        const response = await fetch(`${this.httpUrl}/`, { signal: AbortSignal.timeout(1_000) })
        await response.arrayBuffer()
        return
      } catch {
        if (Date.now() > deadline)
          throw new Error(`${this.spec.id} not listening after ${READY_TIMEOUT_MS} ms:\n${this.output}`)
        await sleep(50)
      }
    }
  }

  async #terminate(): Promise<void> {
    const child = this.#child
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
    await exited
    clearTimeout(timer)
  }
}
