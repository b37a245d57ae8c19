import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chown, mkdtemp, rm } from 'node:fs/promises'
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { createTestDatabase } from './postgres.ts'
import { startServerProcess, tempDataDir, type ServerProcess } from './serverProcess.ts'

const SHARED_REDIS_URL = 'redis://127.0.0.1:6379'
const PG_BIN = '/usr/lib/postgresql/15/bin'
export const ADMIN_KEY = 'cluster-test-admin-key'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Several Tandem processes on one PostgreSQL database and one Redis, behind a balancer. */
export interface Cluster {
  /** The nodes, by index; null while a node is down. */
  readonly nodes: ReadonlyArray<ServerProcess | null>
  /** Round robin over the live nodes, as a load balancer without sticky sessions. */
  readonly balancer: Balancer
  node(index: number): ServerProcess
  kill9(index: number): Promise<void>
  /** Starts node `index` again (on the same port). */
  restart(index: number): Promise<ServerProcess>
}

export interface ClusterOptions {
  readonly size: number
  /** Default: a fresh database on the machine's PostgreSQL. */
  readonly databaseUrl?: string
  /** Default: the machine's Redis, with a key prefix of this cluster's own. */
  readonly redisUrl?: string
  readonly env?: Record<string, string>
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  let databaseUrl = options.databaseUrl
  if (!databaseUrl) {
    const database = await createTestDatabase()
    cleanups.push(() => database.drop())
    databaseUrl = database.url
  }
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: options.redisUrl ?? SHARED_REDIS_URL,
    REDIS_PREFIX: `tandem-t-${randomBytes(4).toString('hex')}:`,
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'warn',
    ...options.env,
  }
  const nodes: Array<ServerProcess | null> = []
  const start = async (index: number, port = '0'): Promise<ServerProcess> => {
    const node = await startServerProcess({
      ...env,
      DATA_DIR: await tempDataDir(),
      NODE_NAME: `node${index + 1}`,
      PORT: port,
    })
    nodes[index] = node
    return node
  }
  // One at a time: the first runs the migrations; the others find them done.
  for (let index = 0; index < options.size; index++) await start(index)
  const balancer = await startBalancer(() => nodes.flatMap((node) => (node ? [node.port] : [])))
  return {
    nodes,
    balancer,
    node(index) {
      const node = nodes[index]
      if (!node) throw new Error(`node ${index + 1} is down`)
      return node
    },
    async kill9(index) {
      const node = nodes[index]
      nodes[index] = null
      await node?.kill9()
    },
    async restart(index) {
      const previous = nodes[index]
      if (previous) throw new Error(`node ${index + 1} is still up`)
      return start(index)
    },
  }
}

/** A TCP balancer: each new connection goes to the next live node; a node that refuses is skipped. */
export interface Balancer {
  readonly port: number
  url(scheme: 'http' | 'ws'): string
  /** Which node port each accepted connection went to, in order. */
  readonly routed: readonly number[]
}

export async function startBalancer(targets: () => number[]): Promise<Balancer> {
  let next = 0
  const routed: number[] = []
  const sockets = new Set<Socket>()
  const connectUpstream = (client: Socket, attemptsLeft: number): void => {
    const ports = targets()
    const port = ports[next++ % Math.max(ports.length, 1)]
    if (port === undefined || attemptsLeft === 0) {
      client.destroy()
      return
    }
    const upstream = createConnection({ host: '127.0.0.1', port })
    sockets.add(upstream)
    upstream.once('connect', () => {
      routed.push(port)
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
    })
    upstream.once('error', () => {
      sockets.delete(upstream)
      // Refused before anything was sent: another node can take it.
      if (upstream.bytesWritten === 0 && upstream.bytesRead === 0 && !client.destroyed)
        connectUpstream(client, attemptsLeft - 1)
      else client.destroy()
    })
    upstream.once('close', () => {
      sockets.delete(upstream)
      client.destroy()
    })
    client.once('close', () => upstream.destroy())
  }
  const server = createServer({ pauseOnConnect: true }, (client) => {
    sockets.add(client)
    client.on('error', () => client.destroy())
    client.once('close', () => sockets.delete(client))
    connectUpstream(client, 5)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { port, url: (scheme) => `${scheme}://127.0.0.1:${port}`, routed }
}

/** A Redis server of this test's own, which it may kill and start again on the same port. */
export interface PrivateRedis {
  readonly url: string
  kill9(): Promise<void>
  start(): Promise<void>
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort()
  let child: ChildProcess | null = null
  const start = async (): Promise<void> => {
    const process = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child = process
    await new Promise<void>((resolve, reject) => {
      let output = ''
      process.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) resolve()
      })
      process.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)))
    })
  }
  const kill9 = async (): Promise<void> => {
    const process = child
    child = null
    if (!process || process.exitCode !== null) return
    const exited = new Promise((resolve) => process.once('exit', resolve))
    process.kill('SIGKILL')
    await exited
  }
  await start()
  cleanups.push(kill9)
  return { url: `redis://127.0.0.1:${port}`, kill9, start }
}

/**
 * A PostgreSQL 15 server of this test's own (initdb in a temp dir; fsync on, so a crash keeps
 * what was committed), which it may crash (`immediate` stop) and start again on the same port.
 */
export interface PrivatePostgres {
  readonly url: string
  crash(): Promise<void>
  start(): Promise<void>
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'tandem-pg-'))
  const data = join(dir, 'data')
  const isRoot = process.getuid?.() === 0
  // PostgreSQL refuses to run as root: as root, it runs as the `postgres` user.
  if (isRoot) await chown(dir, await uidOf('postgres'), 0)
  const run = (command: string, args: string[]): Promise<void> =>
    new Promise((resolve, reject) => {
      const [file, argv] = isRoot
        ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, command), ...args]]
        : [join(PG_BIN, command), args]
      const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
      let output = ''
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command}: ${output}`))))
    })
  await run('initdb', ['-D', data, '-A', 'trust', '-U', 'tandem', '--no-sync', '-E', 'UTF8'])
  const start = (): Promise<void> =>
    run('pg_ctl', [
      '-D',
      data,
      '-w',
      '-l',
      join(dir, 'log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
      'start',
    ])
  const crash = (): Promise<void> => run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])
  await start()
  cleanups.push(async () => {
    await crash().catch(() => undefined)
    await rm(dir, { recursive: true, force: true })
  })
  return { url: `postgres://tandem@127.0.0.1:${port}/postgres`, crash, start }
}

async function uidOf(user: string): Promise<number> {
  const { readFile } = await import('node:fs/promises')
  const line = (await readFile('/etc/passwd', 'utf8'))
    .split('\n')
    .find((entry) => entry.startsWith(`${user}:`))
  const uid = Number(line?.split(':')[2])
  if (!Number.isInteger(uid)) throw new Error(`no user ${user}`)
  return uid
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}
