import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SERVER_BIN = join(REPO_ROOT, 'server/src/bin.ts')
/** The one line bin.ts prints to stdout once it listens. */
const READY_LINE = /^Tandem is running: open (\S+)\s*$/
const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 10_000
const MAX_LOG_LINES = 500

/** A real Tandem server in a child process, on a free port, with its own data directory. */
export interface TandemServer {
  /** e.g. `http://localhost:41234`; unchanged by restart(). */
  readonly url: string
  readonly dataDir: string
  /** SIGTERM, then waits for the exit; throws unless it exits 0 in time. */
  stop(): Promise<void>
  /** stop(), then start again on the same data directory and port, so open tabs can reconnect. */
  restart(): Promise<void>
  /** SIGKILL, as a crash or an OOM kill does: no shutdown, no goodbye; waits for the exit. */
  kill(): Promise<void>
  /** Starts it again after stop() or kill(), on the same data directory and port. */
  start(): Promise<void>
  /** The server's recent output (stdout and stderr), for failure reports. */
  logs(): string
  /** Stops it if running and deletes the data directory. */
  dispose(): Promise<void>
}

interface Running {
  readonly child: ChildProcess
  readonly url: string
  readonly exited: Promise<number | null>
}

export interface ServerOptions {
  /** Variables added to the process's environment, e.g. a cluster node's DATABASE_URL and NODE_NAME. */
  readonly env?: Readonly<Record<string, string>>
}

export async function startServer(options: ServerOptions = {}): Promise<TandemServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tandem-e2e-'))
  const log: string[] = []
  const env = options.env ?? {}
  let running: Running | null = await launch(dataDir, 0, log, env)
  const { url } = running

  const stop = async (): Promise<void> => {
    if (running === null) return
    const { child, exited } = running
    running = null
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const code = await withTimeout(exited, STOP_TIMEOUT_MS, () => child.kill('SIGKILL'))
    if (code === 'timeout') throw new Error(`server did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`)
    if (code !== 0) throw new Error(`server exited with code ${code} on SIGTERM:\n${tail(log)}`)
  }

  const start = async (): Promise<void> => {
    if (running !== null) throw new Error('server is already running')
    running = await launch(dataDir, Number(new URL(url).port), log, env)
  }

  return {
    url,
    dataDir,
    stop,
    async restart() {
      await stop()
      await start()
    },
    async kill() {
      if (running === null) return
      const { child, exited } = running
      running = null
      child.kill('SIGKILL')
      await exited
    },
    start,
    logs: () => log.join('\n'),
    async dispose() {
      try {
        await stop()
      } finally {
        await rm(dataDir, { recursive: true, force: true })
      }
    },
  }
}

/** Spawns bin.ts and resolves once it prints its ready line; rejects (with its output) otherwise. */
function launch(
  dataDir: string,
  port: number,
  log: string[],
  extraEnv: Readonly<Record<string, string>>,
): Promise<Running> {
  const record = (line: string): void => {
    log.push(line)
    if (log.length > MAX_LOG_LINES) log.shift()
  }
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER_BIN], {
    cwd: REPO_ROOT,
    // E2E_SERVER_LOG_LEVEL=info puts every connection's open and close (with its code) in server.log.
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env['E2E_SERVER_LOG_LEVEL'] ?? 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  createInterface({ input: child.stderr }).on('line', (line) => record(`[stderr] ${line}`))
  const stdout = createInterface({ input: child.stdout })
  stdout.on('line', record)

  return new Promise<Running>((resolve, reject) => {
    let isSettled = false
    const settle = (outcome: () => void): void => {
      if (isSettled) return
      isSettled = true
      clearTimeout(timer)
      outcome()
    }
    const fail = (message: string): void =>
      settle(() => {
        child.kill('SIGKILL')
        reject(new Error(`${message}\n--- server output ---\n${tail(log)}`))
      })
    const timer = setTimeout(
      () => fail(`server printed no ready line within ${START_TIMEOUT_MS} ms`),
      START_TIMEOUT_MS,
    )
    stdout.on('line', (line) => {
      const url = READY_LINE.exec(line)?.[1]
      if (url !== undefined) settle(() => resolve({ child, url, exited }))
    })
    child.once('error', (error) => fail(`could not spawn the server: ${error.message}`))
    void exited.then((code) => fail(`server exited with code ${code} before it was ready`))
  })
}

async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => void,
): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      onTimeout()
      resolve('timeout')
    }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

function tail(lines: readonly string[], count = 40): string {
  return lines.slice(-count).join('\n')
}
