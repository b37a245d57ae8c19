import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createConnection } from 'node:net'
import { freePort } from '../peers/PeerProcess.ts'

/**
 * The engines a cluster runs on: a database of the bench's own on the machine's PostgreSQL, and a
 * Redis. Redis is private (its own `redis-server` on a free port) unless a shared URL is given, so
 * that its CPU from /proc and its INFO counters are the cluster's alone; PostgreSQL is the shared
 * server (one database per run), so its backends are told apart by database name.
 */

const PG_HOST = '127.0.0.1'
const PG_PORT = 5432
/** psql reads PGUSER itself; on the bench machine (trust auth) the superuser is `postgres`. */
const PG_ENV = { ...process.env, PGUSER: process.env['PGUSER'] ?? 'postgres' }

function run(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: PG_ENV, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${file}: ${stderr || error.message}`)) : resolve(stdout),
    )
  })
}

/** One statement on the maintenance database; rows as `|`-separated lines. */
export async function psql(sql: string): Promise<string[]> {
  const out = await run('psql', ['-h', PG_HOST, '-p', String(PG_PORT), '-d', 'postgres', '-XAtc', sql])
  return out.split('\n').filter((line) => line.length > 0)
}

export interface BenchDatabase {
  readonly name: string
  readonly url: string
  drop(): Promise<void>
}

export async function createDatabase(): Promise<BenchDatabase> {
  const name = `tandem_bench_${randomBytes(5).toString('hex')}`
  await psql(`CREATE DATABASE ${name}`)
  return {
    name,
    url: `postgres://${encodeURIComponent(PG_ENV.PGUSER ?? 'postgres')}@${PG_HOST}:${PG_PORT}/${name}`,
    async drop() {
      await psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    },
  }
}

/** PostgreSQL processes by role: the backends serving `database`, and the server's own (shared). */
export interface PgProcesses {
  readonly backends: readonly number[]
  /** WAL writer, checkpointer, background writer…: they work for every database on the server. */
  readonly background: readonly number[]
}

export async function pgProcesses(database: string): Promise<PgProcesses> {
  const rows = await psql(
    `SELECT pid, backend_type, coalesce(datname, '') FROM pg_stat_activity WHERE pid <> pg_backend_pid()`,
  )
  const backends: number[] = []
  const background: number[] = []
  for (const row of rows) {
    const [pid, type, datname] = row.split('|')
    if (datname === database) backends.push(Number(pid))
    else if (type !== 'client backend' && type !== 'autovacuum worker') background.push(Number(pid))
  }
  return { backends, background }
}

export interface BenchRedis {
  readonly url: string
  /** The redis-server process (null when it cannot be known). */
  readonly pid: number | null
  /** Shared with other users of the machine: its CPU is not the cluster's alone. */
  readonly isShared: boolean
  /** `INFO <section>` as key → value. */
  info(section: string): Promise<Map<string, string>>
  stop(): Promise<void>
}

export async function startRedis(sharedUrl: string | null): Promise<BenchRedis> {
  if (sharedUrl) {
    const { hostname, port } = new URL(sharedUrl)
    const info = (section: string) => redisInfo(hostname, Number(port || 6379), section)
    const pid = Number((await info('server')).get('process_id'))
    return { url: sharedUrl, pid: pid > 0 ? pid : null, isShared: true, info, stop: async () => {} }
  }
  const port = await freePort()
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  await whenRedisReady(child)
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid ?? null,
    isShared: false,
    info: (section) => redisInfo('127.0.0.1', port, section),
    stop: () => stopChild(child),
  }
}

function whenRedisReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => reject(new Error(`redis-server not ready: ${output}`)), 10_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-2_000)
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2_000)))
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited (${code}): ${output}`))
    })
  })
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}

/**
 * `INFO <section>` over a bare connection (one inline command, one bulk reply): the bench needs
 * nothing else from Redis, and a client library would be a dependency of its own.
 */
function redisInfo(host: string, port: number, section: string): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port })
    let buffer = Buffer.alloc(0)
    socket.setTimeout(5_000, () => socket.destroy(new Error('redis INFO timed out')))
    socket.once('error', reject)
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      const headerEnd = buffer.indexOf('\r\n')
      if (headerEnd < 0) return
      const header = buffer.subarray(0, headerEnd).toString()
      if (!header.startsWith('$')) {
        socket.destroy()
        reject(new Error(`redis INFO: ${header}`))
        return
      }
      const length = Number(header.slice(1))
      if (buffer.length < headerEnd + 2 + length) return
      socket.end()
      const body = buffer.subarray(headerEnd + 2, headerEnd + 2 + length).toString()
      const out = new Map<string, string>()
      for (const line of body.split('\r\n')) {
        const at = line.indexOf(':')
        if (at > 0 && !line.startsWith('#')) out.set(line.slice(0, at), line.slice(at + 1))
      }
      resolve(out)
    })
    socket.write(`INFO ${section}\r\n`)
  })
}

/** `cmdstat_publish:calls=12,usec=34,…` → calls and µs per command name. */
export function commandStats(
  info: ReadonlyMap<string, string>,
): Map<string, { calls: number; usec: number }> {
  const out = new Map<string, { calls: number; usec: number }>()
  for (const [key, value] of info) {
    if (!key.startsWith('cmdstat_')) continue
    const calls = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0)
    const usec = Number(/usec=(\d+)/.exec(value)?.[1] ?? 0)
    out.set(key.slice('cmdstat_'.length), { calls, usec })
  }
  return out
}

/** Prometheus text → sum of every sample of each metric name (labels folded). */
export async function scrapeMetrics(url: string): Promise<Map<string, number>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`)
  const out = new Map<string, number>()
  for (const line of (await response.text()).split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{[^}]*\})? (\S+)/.exec(line)
    if (!match?.[1] || match[2] === undefined) continue
    const value = Number(match[2])
    if (Number.isFinite(value)) out.set(match[1], (out.get(match[1]) ?? 0) + value)
  }
  return out
}

/** What the run's PostgreSQL backends were doing, averaged over samples taken every few ms. */
export interface PgActivity {
  readonly samples: number
  /** Backends waiting for a lock (another transaction's row lock: `transactionid`, `tuple`). */
  readonly lockWaiting: number
  /** Backends inside a transaction, waiting for the node to send the next statement. */
  readonly idleInTransaction: number
  /** Backends running a statement (or waiting for I/O, e.g. the WAL flush of a commit). */
  readonly active: number
  /** Share of samples in which at least one backend waited for a lock. */
  readonly lockShare: number
}

export interface PgActivityProbe {
  /** The samples so far; the probe goes on. */
  snapshot(): PgActivity
  stop(): Promise<void>
}

/**
 * Samples pg_stat_activity of `database` every `intervalMs` from one psql session (`\watch`), so a
 * window can tell commits waiting for each other's row locks from commits waiting for their node.
 * One short query per sample on the maintenance database: its cost shows as foreign CPU.
 */
export function startPgActivityProbe(database: string, intervalMs = 50): PgActivityProbe {
  const child = spawn('psql', ['-h', PG_HOST, '-p', String(PG_PORT), '-d', 'postgres', '-XAtq'], {
    env: PG_ENV,
    stdio: ['pipe', 'pipe', 'ignore'],
  })
  const rows: Array<[number, number, number]> = []
  let pending = ''
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString()
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      const [lock, idle, active] = line.split('|').map(Number)
      if (lock !== undefined && idle !== undefined && active !== undefined && line.includes('|'))
        rows.push([lock, idle, active])
    }
  })
  child.stdin.write(
    `SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), ` +
      `count(*) FILTER (WHERE state LIKE 'idle in transaction%'), ` +
      `count(*) FILTER (WHERE state = 'active' AND wait_event_type IS DISTINCT FROM 'Lock') ` +
      `FROM pg_stat_activity WHERE datname = '${database}'\n\\watch ${intervalMs / 1000}\n`,
  )
  return {
    async stop() {
      await stopChild(child)
    },
    snapshot() {
      const n = Math.max(1, rows.length)
      const mean = (column: number): number => rows.reduce((sum, row) => sum + (row[column] ?? 0), 0) / n
      return {
        samples: rows.length,
        lockWaiting: mean(0),
        idleInTransaction: mean(1),
        active: mean(2),
        lockShare: rows.filter((row) => row[0] > 0).length / n,
      }
    },
  }
}
