import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'

const BIN = fileURLToPath(new URL('../../../src/bin.ts', import.meta.url))
/** How much of the child's output is kept for failure messages. */
const OUTPUT_TAIL_CHARS = 4_000

const cleanups: Array<() => Promise<void>> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * The real server as a child process (`node --import tsx server/src/bin.ts`), so a test can
 * `kill -9` it or read its memory from /proc. Killed (SIGKILL) after the test if still running.
 */
export interface ServerProcess {
  readonly child: ChildProcess
  readonly pid: number
  readonly url: string
  readonly port: number
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  readonly exited: Promise<number | null>
  /** The last few KB of stdout and stderr, for failure messages. */
  output(): string
  /** `kill -9`, resolved once the process is gone (its port and DATA_DIR lock are free). */
  kill9(): Promise<void>
}

/** A fresh temp directory for DATA_DIR, removed after the test. */
export async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-proc-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Starts the server with `env` (PORT 0 and HOST 127.0.0.1 unless given) and resolves once it
 * prints its URL. Output is always drained: a child blocked on a full stdout pipe is not a test.
 */
export function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS)
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code))
    // A child that could not be spawned never exits.
    child.once('error', () => resolve(null))
  })
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  return new Promise((resolve, reject) => {
    let stdout = ''
    let isReady = false
    child.stderr.on('data', keep)
    child.stdout.on('data', (chunk: Buffer) => {
      keep(chunk)
      if (isReady) return
      stdout += chunk.toString()
      const match = /open (http:\/\/\S+)/.exec(stdout)
      if (!match?.[1] || child.pid === undefined) return
      const url = match[1]
      isReady = true
      resolve({
        child,
        pid: child.pid,
        url,
        port: Number(new URL(url).port),
        exited,
        output: () => output,
        async kill9() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
          await exited
        },
      })
    })
    child.once('error', reject)
    void exited.then((code) => reject(new Error(`server exited (${code}) before it was ready:\n${output}`)))
  })
}

/** The process's resident set size in bytes, from /proc/<pid>/status (Linux). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status)
  if (!match?.[1]) throw new Error(`no VmRSS in /proc/${pid}/status`)
  return Number(match[1]) * 1024
}

/** Rejects with a message naming `what` if `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
