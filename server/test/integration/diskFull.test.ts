import { spawn } from 'node:child_process'
import { readdir, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { PROBE_FILE } from '../../src/persistence/LevelDatabase.ts'
import { mountSmallFilesystem, setFileSizeLimit, type FilesystemKind } from '../fullDisk.ts'
import { createDoc, type CreatedDoc } from './support/clients.ts'
import { scrape } from './support/metrics.ts'
import { startServerProcess, tempDataDir, within, type ServerProcess } from './support/serverProcess.ts'
import { TOKEN, Writer, destroy, occurrences, provider, readDocument } from './support/writers.ts'

/**
 * SPEC R57 (issue 13): a write that fails on a full or failing disk can leave LevelDB's log torn,
 * and LevelDB then reports later writes as written while the next open drops them. Writers type
 * through a real episode; after a restart every acknowledged edit is present exactly once.
 */

const WRITERS = 3
/** Tokens each writer types while the server reports `persistence: failing`. */
const TYPED_DURING_EPISODE = 30
/**
 * Tokens each writer has acknowledged after the episode, beyond what it had typed when it ended:
 * enough group commits for the log to cross LevelDB's 32 KiB blocks after the failed write, where
 * a log whose writer lost its place drops records even when no record was torn.
 */
const ACKED_AFTER_EPISODE = 150
const EPISODE_TIMEOUT_MS = 20_000

/** What breaks the server's writes, and what mends them. */
interface Fault {
  /** Resolves with the reason when this kind of fault cannot be made here (the test skips). */
  inject(server: ServerProcess): Promise<string | null>
  heal(server: ServerProcess): Promise<void>
  /** Checks made while writes are failing (after the clients were told). */
  whileFailing?(server: ServerProcess, doc: CreatedDoc): Promise<void>
}

type Restart = 'kill -9' | 'SIGTERM'

type Outcome =
  | {
      readonly kind: 'restarted'
      readonly acknowledged: number
      readonly acknowledgedFromEpisode: number
      readonly lost: readonly string[]
    }
  | { readonly kind: 'unsupported'; readonly reason: string }

/**
 * Writers type before, during and after a fault; then the server is restarted and a reader loads
 * the document. Asserts everything but loss, which it returns (so a failure shows the count).
 */
async function typeThroughEpisode(options: {
  readonly env: Record<string, string>
  readonly fault: Fault
  readonly restart: Restart
}): Promise<Outcome> {
  let server = await startServerProcess({ LOG_LEVEL: 'warn', ...options.env })
  try {
    const doc = await createDoc(server.url)
    const writers = Array.from(
      { length: WRITERS },
      (_, i) => new Writer(provider(server, doc, 'edit'), `w${i}`),
    )
    let typedWhenFailing: number[] = []
    try {
      await within(Promise.all(writers.map((w) => w.client.whenSynced())), 10_000, 'the writers syncing')
      for (const writer of writers) writer.startTyping()
      await eventually(() => {
        for (const writer of writers) expect(writer.acknowledgedCount).toBeGreaterThanOrEqual(5)
      }, 'acks before the episode')

      const unsupported = await options.fault.inject(server)
      if (unsupported) return { kind: 'unsupported', reason: unsupported }
      // R8: no ack while failing, and every opted-in client is told.
      await eventually(() => {
        for (const writer of writers) expect(writer.client.status.save).toBe('failing')
      }, 'persistence: failing reaching every writer')
      typedWhenFailing = writers.map((w) => w.typed.length)
      await eventually(() => {
        writers.forEach((w, i) =>
          expect(w.typed.length).toBeGreaterThanOrEqual((typedWhenFailing[i] ?? 0) + TYPED_DURING_EPISODE),
        )
      }, 'writers typing through the episode')
      await options.fault.whileFailing?.(server, doc)
      for (const writer of writers) expect(writer.client.status.save).toBe('failing')

      await options.fault.heal(server)
      const typedWhenHealed = writers.map((w) => w.typed.length)
      // Acks resume, and cover edits typed during the episode and after it.
      await eventually(() => {
        writers.forEach((w, i) =>
          expect(w.acknowledgedCount).toBeGreaterThanOrEqual((typedWhenHealed[i] ?? 0) + ACKED_AFTER_EPISODE),
        )
      }, 'acks after the episode')

      if (options.restart === 'kill -9') {
        await server.kill9()
      } else {
        server.child.kill('SIGTERM')
        expect(await within(server.exited, 15_000, 'a graceful shutdown')).toBe(0)
      }
      await Promise.all(writers.map((writer) => writer.stopTyping()))
      // Acks already on the wire before the process ended still count: snapshot once every writer
      // has seen its connection end, after every frame that arrived before it.
      await eventually(() => {
        for (const writer of writers) expect(writer.client.status.connection.kind).not.toBe('connected')
      }, 'writers noticing the restart')
    } finally {
      for (const writer of writers) destroy(writer.client)
    }

    server = await startServerProcess({ LOG_LEVEL: 'warn', ...options.env, PORT: String(server.port) })
    const text = await readDocument(server, doc)
    const counts = occurrences(text)
    expect(text.replace(TOKEN, '')).toBe('')
    expect(
      [...counts].filter(([, count]) => count > 1).map(([token]) => token),
      'duplicated',
    ).toEqual([])
    const typed = new Set(writers.flatMap((w) => w.typed))
    expect(
      [...counts.keys()].filter((token) => !typed.has(token)),
      'never typed',
    ).toEqual([])
    const acknowledged = writers.flatMap((w) => w.acknowledged)
    const fromEpisode = writers.flatMap((w, i) => w.acknowledged.slice(typedWhenFailing[i] ?? 0))
    const lost = acknowledged.filter((token) => !counts.has(token))
    console.log(
      `[R57] ${options.restart}: ${typed.size} typed, ${acknowledged.length} acknowledged ` +
        `(${fromEpisode.length} typed during or after the episode); ` +
        `${lost.length} acknowledged lost (${fromEpisode.filter((t) => !counts.has(t)).length} of them from the episode)`,
    )
    return {
      kind: 'restarted',
      acknowledged: acknowledged.length,
      acknowledgedFromEpisode: fromEpisode.length,
      lost,
    }
  } finally {
    await server.kill9()
  }
}

async function eventually(assertion: () => void | Promise<void>, what: string): Promise<void> {
  try {
    await vi.waitFor(assertion, { timeout: EPISODE_TIMEOUT_MS, interval: 10 })
  } catch (error) {
    throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

/** The filesystem fills up (a filler file takes every free byte) and is freed again. */
function fullFilesystem(fs: { fill(): Promise<void>; free(): Promise<void> }): Fault {
  return {
    async inject() {
      await fs.fill()
      return null
    },
    heal: () => fs.free(),
  }
}

/** Skips with the reason, or checks that edits were acknowledged through the episode and none is lost. */
function expectNoLoss(outcome: Outcome, skip: (note: string) => void): void {
  if (outcome.kind === 'unsupported') return skip(outcome.reason)
  expect(outcome.acknowledgedFromEpisode).toBeGreaterThan(0)
  expect(outcome.lost, 'acknowledged but lost').toEqual([])
}

async function fullDiskScenario(
  kind: FilesystemKind,
  bytes: number,
  restart: Restart,
  skip: (note: string) => void,
) {
  const fs = await mountSmallFilesystem(kind, bytes)
  if (typeof fs === 'string') return skip(`${fs}; the file-size limit test covers R57 instead`)
  try {
    expectNoLoss(
      await typeThroughEpisode({ env: { DATA_DIR: fs.dir }, fault: fullFilesystem(fs), restart }),
      skip,
    )
  } finally {
    await fs.unmount()
  }
}

/** The current write-ahead log of the LevelDB in `dir`: the highest-numbered `NNNNNN.log`. */
async function currentLog(dir: string): Promise<string> {
  const logs = (await readdir(dir)).filter((name) => /^\d+\.log$/.test(name)).sort()
  const last = logs.at(-1)
  if (!last) throw new Error(`no LevelDB log in ${dir}`)
  return join(dir, last)
}

/**
 * Fails system calls of a running process that touch `paths`, with `strace`'s fault injection:
 * what a dying disk (EIO) or a filesystem remounted read-only (EROFS) does to the server. Resolves
 * once strace is attached to every thread, or with the reason it cannot attach.
 */
async function injectErrors(
  pid: number,
  rules: ReadonlyArray<{ readonly syscall: 'write' | 'openat'; readonly error: 'EIO' | 'EROFS' }>,
  paths: readonly string[],
): Promise<{ stop(): Promise<void> } | string> {
  const args = [
    '-f',
    '-p',
    String(pid),
    '-o',
    '/dev/null',
    '-e',
    `trace=${rules.map((r) => r.syscall).join(',')}`,
  ]
  for (const rule of rules) args.push('-e', `inject=${rule.syscall}:error=${rule.error}`)
  for (const path of paths) args.push('-P', path)
  let child
  try {
    child = spawn('strace', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (error) {
    return `strace: ${String(error)}`
  }
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  let stderr = ''
  const attached = await new Promise<boolean>((resolve) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      // "strace: Process 123 attached with 11 threads": every thread is traced from here on.
      if (/attached/.test(stderr)) resolve(true)
    })
    child.once('error', () => resolve(false))
    void exited.then(() => resolve(false))
  })
  if (!attached) return `strace cannot inject faults here (${stderr.trim().split('\n')[0] ?? 'no output'})`
  return {
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
  }
}

/** A port nobody listens on now, for the metrics listener of a server process. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

describe('a full or failing disk (SPEC R57)', () => {
  it('[R57][R28][R8] a full tmpfs: every edit acknowledged during and after the episode survives kill -9', async ({
    skip,
  }) => {
    await fullDiskScenario('tmpfs', 4 << 20, 'kill -9', skip)
  }, 90_000)

  it('[R57][R28][R35] a full ext4 disk (loop device): every acknowledged edit survives a graceful restart', async ({
    skip,
  }) => {
    await fullDiskScenario('ext4', 16 << 20, 'SIGTERM', skip)
  }, 90_000)

  it('[R57][R28][R8] a file-size limit (EFBIG): every acknowledged edit survives kill -9', async ({
    skip,
  }) => {
    const dataDir = await tempDataDir()
    const fault: Fault = {
      async inject(server) {
        // A little more than the log holds now: the writers reach the limit within a few writes.
        const limit = (await stat(await currentLog(dataDir))).size + 4096
        const reason = await setFileSizeLimit(server.pid, limit)
        return reason && `${reason}, and no filesystem could be mounted either`
      },
      async heal(server) {
        const reason = await setFileSizeLimit(server.pid, null)
        if (reason) throw new Error(reason)
      },
    }
    expectNoLoss(await typeThroughEpisode({ env: { DATA_DIR: dataDir }, fault, restart: 'kill -9' }), skip)
  }, 90_000)

  it('[R57][R28][R53] a read-only filesystem (EROFS, fault injection): reads go on, writes wait, nothing acknowledged is lost', async ({
    skip,
  }) => {
    const dataDir = await tempDataDir()
    let injection: { stop(): Promise<void> } | null = null
    const fault: Fault = {
      async inject(server) {
        // What a filesystem remounted read-only does: writes to the open log fail, and so does
        // creating a file (the store's check for room before it reopens the database).
        const result = await injectErrors(
          server.pid,
          [
            { syscall: 'write', error: 'EROFS' },
            { syscall: 'openat', error: 'EROFS' },
          ],
          [await currentLog(dataDir), join(dataDir, PROBE_FILE)],
        )
        if (typeof result === 'string') return result
        injection = result
        return null
      },
      async whileFailing(server, doc) {
        // The store cannot be reopened, so it is not closed: it still serves what it holds.
        const response = await fetch(`${server.url}/readyz`)
        expect(response.status).toBe(200)
        expect(await response.json()).toEqual({ status: 'ready', store: 'failing' })
        const reader = await readDocument(server, doc)
        expect(reader.length).toBeGreaterThan(0)
      },
      heal: async () => injection?.stop(),
    }
    expectNoLoss(await typeThroughEpisode({ env: { DATA_DIR: dataDir }, fault, restart: 'kill -9' }), skip)
  }, 90_000)

  it('[R57][R53][R51] EIO when reopening too: acks stay refused, /readyz and metrics say so, then it recovers', async ({
    skip,
  }) => {
    const dataDir = await tempDataDir()
    const metricsPort = await freePort()
    const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`
    let injection: { stop(): Promise<void> } | null = null
    const fault: Fault = {
      async inject(server) {
        // Writes to the log fail, and so does reading CURRENT, which every open of LevelDB does.
        const result = await injectErrors(
          server.pid,
          [
            { syscall: 'write', error: 'EIO' },
            { syscall: 'openat', error: 'EIO' },
          ],
          [await currentLog(dataDir), join(dataDir, 'CURRENT')],
        )
        if (typeof result === 'string') return result
        injection = result
        return null
      },
      async whileFailing(server) {
        await eventually(async () => {
          const response = await fetch(`${server.url}/readyz`)
          expect(response.status).toBe(503)
          expect(await response.json()).toEqual({ status: 'not ready', reason: 'store unavailable' })
        }, '/readyz reporting the store unavailable')
        const metrics = await scrape(metricsUrl)
        expect(metrics.value('tandem_store_state', { state: 'unavailable' })).toBe(1)
        expect(metrics.value('tandem_store_state', { state: 'open' })).toBe(0)
        expect(metrics.value('tandem_store_reopens_total', { outcome: 'failed' })).toBeGreaterThanOrEqual(1)
      },
      async heal(server) {
        await injection?.stop()
        await eventually(async () => {
          const response = await fetch(`${server.url}/readyz`)
          expect(await response.json()).toEqual({ status: 'ready' })
        }, '/readyz ready again')
        const metrics = await scrape(metricsUrl)
        expect(metrics.value('tandem_store_state', { state: 'open' })).toBe(1)
        expect(metrics.value('tandem_store_reopens_total', { outcome: 'ok' })).toBeGreaterThanOrEqual(1)
      },
    }
    const env = { DATA_DIR: dataDir, METRICS_PORT: String(metricsPort) }
    expectNoLoss(await typeThroughEpisode({ env, fault, restart: 'kill -9' }), skip)
  }, 90_000)
})
