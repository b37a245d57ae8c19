import { open as openFile, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import type { StoreState } from './DocStore.ts'

/** What the database reports to the composition root (logs, metrics; SPEC R57). */
export type DatabaseEvent =
  /** A write failed: the store turns `failing` and accepts no write until it has been reopened. */
  | { readonly kind: 'write-failed'; readonly error: unknown }
  /** Not reopened yet: the directory cannot take what a reopen writes (still full, read-only). */
  | { readonly kind: 'reopen-deferred'; readonly error: unknown }
  | { readonly kind: 'reopened' }
  /** Closing or opening failed: `unavailable` when the database is closed, else still `failing`. */
  | { readonly kind: 'reopen-failed'; readonly error: unknown }

/** Why a read or write was refused: the store has not recovered from a failed write (R57). */
export class StoreFailingError extends Error {
  override readonly name = 'StoreFailingError'
}

type Lifecycle =
  | { readonly kind: 'open' }
  | { readonly kind: 'failing'; readonly cause: unknown }
  | { readonly kind: 'unavailable'; readonly cause: unknown }
  | { readonly kind: 'closed' }

/** The first background reopen attempt after a failed write; doubles up to the maximum. */
const FIRST_RECOVERY_DELAY_MS = 100
const MAX_RECOVERY_DELAY_MS = 5_000
/** Room a reopen needs beyond the logs it replays and the manifest it rewrites. */
const REOPEN_MARGIN_BYTES = 64 * 1024
/** Written and removed before a reopen; LevelDB ignores file names it did not make. */
export const PROBE_FILE = 'tandem-reopen-probe.tmp'

/**
 * abstract-level's implementation methods (its "private API for implementors"): every write of
 * the database — sublevels, batches and chained batches of sublevels included — ends in one of
 * them. They are not in level's typings.
 */
interface WriteMethods {
  _put(key: unknown, value: unknown, options: unknown): Promise<void>
  _del(key: unknown, options: unknown): Promise<void>
  _batch(operations: unknown, options: unknown): Promise<void>
  _clear(options: unknown): Promise<void>
}
const classicLevel = Level.prototype as unknown as WriteMethods

type Guard = <T>(write: () => Promise<T>) => Promise<T>

/** classic-level with every write passed through a guard. */
class GuardedLevel extends Level<string, Uint8Array> {
  readonly #guard: Guard

  constructor(dir: string, guard: Guard) {
    super(dir, { valueEncoding: 'view' })
    this.#guard = guard
  }

  _put(key: unknown, value: unknown, options: unknown): Promise<void> {
    return this.#guard(() => classicLevel._put.call(this, key, value, options))
  }

  _del(key: unknown, options: unknown): Promise<void> {
    return this.#guard(() => classicLevel._del.call(this, key, options))
  }

  _batch(operations: unknown, options: unknown): Promise<void> {
    return this.#guard(() => classicLevel._batch.call(this, operations, options))
  }

  _clear(options: unknown): Promise<void> {
    return this.#guard(() => classicLevel._clear.call(this, options))
  }

  /** classic-level's own chained batch writes without `_batch`, around the guard: refused. */
  _chainedBatch(): never {
    throw new Error(
      'chained batches on the root database bypass the write guard (SPEC R57): use batch([...])',
    )
  }
}

/**
 * The LevelDB of a DATA_DIR, which accepts no write after a failed one until it has been closed
 * and reopened (SPEC R57).
 *
 * Why: when appending a record to its write-ahead log fails (ENOSPC, EFBIG, EIO, EROFS), LevelDB
 * returns the error but carries on with that log. Its log writer advances its block offset as if
 * the record had been written (db/log_writer.cc, EmitPhysicalRecord), and the stdio buffer holding
 * the record is discarded by the failed flush, so the file holds a torn record, or lacks one, and
 * the writer's idea of where LevelDB's 32 KiB blocks start no longer matches the file. DBImpl::Write
 * latches an error only for a failed fsync, so later writes succeed, are served from the memtable —
 * and are dropped when the log is replayed at the next open, after kill -9 and a clean close alike
 * (the replay stops at the torn record and skips misaligned blocks: "dropping N bytes; Corruption:
 * checksum mismatch" in LevelDB's LOG). Reopening replays the log up to the failure, writes what it
 * read to a table and starts a new log: what was acknowledged is kept, and later writes are safe.
 *
 * So every write runs one at a time through `#guard`: after a failure, writes are refused until a
 * reopen succeeded. Meanwhile reads are served by the open database (it holds exactly what was
 * acknowledged: a failed write never reaches the memtable). A reopen is tried only once a probe
 * file of the size a reopen writes fits in the directory, so a full disk keeps reads working; it
 * is tried by `recover()` (the store calls it before each write) and by a background loop.
 */
export class LevelDatabase {
  /** For batches and sublevels; typed as plain Level, which is what sublevels' types expect. */
  readonly level: Level<string, Uint8Array>
  readonly #dir: string
  readonly #onEvent: (event: DatabaseEvent) => void
  #lifecycle: Lifecycle = { kind: 'open' }
  /** Raw writes and reopens, one at a time, in order. */
  #writes: Promise<unknown> = Promise.resolve()
  /** The recovery attempt in flight, shared by every caller of `recover()`. */
  #recovery: Promise<void> | null = null
  #isRecoveringInBackground = false
  /** Ends the background loop's current delay early (on close). */
  #wake: (() => void) | null = null
  /** Sublevels handed out: a close closes them, so a reopen reopens them. */
  readonly #sublevels: Array<{ open(): Promise<void> }> = []
  #activeReads = 0
  #onReadsDrained: (() => void) | null = null
  /** Set while a reopen runs: reads wait for it rather than fail on a closed database. */
  #reopening: Promise<void> | null = null

  private constructor(dir: string, onEvent: (event: DatabaseEvent) => void) {
    this.#dir = dir
    this.#onEvent = onEvent
    // A GuardedLevel is a Level, but level's typings (`typeof this` in batch operations) make
    // TypeScript see the two as unrelated.
    const level: unknown = new GuardedLevel(dir, (write) => this.#write(write))
    this.level = level as Level<string, Uint8Array>
  }

  static async open(
    dir: string,
    onEvent: (event: DatabaseEvent) => void = () => undefined,
  ): Promise<LevelDatabase> {
    const database = new LevelDatabase(dir, onEvent)
    await database.level.open()
    await rm(join(dir, PROBE_FILE), { force: true })
    return database
  }

  get state(): StoreState {
    return this.#lifecycle.kind
  }

  /** Returns `sublevel`, a sublevel of `level`, reopened whenever the database is. */
  reopens<T extends { open(): Promise<void> }>(sublevel: T): T {
    this.#sublevels.push(sublevel)
    return sublevel
  }

  /**
   * Runs reads of the database: they wait while it is being reopened, and fail at once while it
   * is closed after a reopen failed.
   */
  async read<T>(read: () => Promise<T>): Promise<T> {
    while (this.#reopening) await this.#reopening
    const lifecycle = this.#lifecycle
    if (lifecycle.kind === 'unavailable') {
      throw new StoreFailingError('the database could not be reopened after a failed write', {
        cause: lifecycle.cause,
      })
    }
    this.#activeReads += 1
    try {
      return await read()
    } finally {
      this.#activeReads -= 1
      if (this.#activeReads === 0) this.#onReadsDrained?.()
    }
  }

  /**
   * Makes the database writable again after a failed write, by reopening it; resolves at once
   * while it is open, rejects with the reason while it cannot be reopened yet.
   */
  recover(): Promise<void> {
    if (this.#lifecycle.kind === 'open') return Promise.resolve()
    this.#recovery ??= this.#exclusive(() => this.#recoverNow()).finally(() => (this.#recovery = null))
    return this.#recovery
  }

  async close(): Promise<void> {
    this.#lifecycle = { kind: 'closed' }
    this.#wake?.()
    await this.#writes
    if (this.level.status === 'open') await this.level.close()
  }

  #write<T>(write: () => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      const lifecycle = this.#lifecycle
      if (lifecycle.kind !== 'open') {
        throw new StoreFailingError(
          lifecycle.kind === 'closed'
            ? 'the store is closed'
            : 'a write failed; no write is accepted until the database has been reopened (SPEC R57)',
          { cause: lifecycle.kind === 'closed' ? undefined : lifecycle.cause },
        )
      }
      try {
        return await write()
      } catch (error) {
        this.#become({ kind: 'failing', cause: error })
        this.#onEvent({ kind: 'write-failed', error })
        void this.#recoverInBackground()
        throw error
      }
    })
  }

  /** Every change but `close()`'s: a store closed meanwhile stays closed. */
  #become(next: Lifecycle): void {
    if (this.#lifecycle.kind !== 'closed') this.#lifecycle = next
  }

  #exclusive<T>(job: () => Promise<T>): Promise<T> {
    const result = this.#writes.then(job, job)
    this.#writes = result.catch(() => undefined)
    return result
  }

  async #recoverNow(): Promise<void> {
    const lifecycle = this.#lifecycle
    switch (lifecycle.kind) {
      case 'open':
        return
      case 'closed':
        throw new StoreFailingError('the store is closed')
      case 'failing': {
        // Closing a database that cannot be reopened would also stop its reads: first make sure
        // the directory takes what a reopen writes.
        const noRoom = await this.#probeRoomToReopen()
        if (noRoom !== null) {
          this.#onEvent({ kind: 'reopen-deferred', error: noRoom })
          throw new StoreFailingError('a write failed and the database cannot be reopened yet', {
            cause: noRoom,
          })
        }
        return this.#reopen()
      }
      case 'unavailable':
        return this.#reopen()
    }
  }

  /** Runs inside `#exclusive`: no write is in flight, none starts until it is done. */
  async #reopen(): Promise<void> {
    let done = (): void => undefined
    this.#reopening = new Promise<void>((resolve) => (done = resolve))
    try {
      if (this.#activeReads > 0) await new Promise<void>((resolve) => (this.#onReadsDrained = resolve))
      this.#onReadsDrained = null
      if (this.level.status === 'open') await this.level.close()
      await this.level.open()
      for (const sublevel of this.#sublevels) await sublevel.open()
      this.#become({ kind: 'open' })
      this.#onEvent({ kind: 'reopened' })
    } catch (error) {
      // A failed close leaves the old database open (still serving reads); a failed open, none.
      this.#become(
        this.level.status === 'open'
          ? { kind: 'failing', cause: error }
          : { kind: 'unavailable', cause: error },
      )
      this.#onEvent({ kind: 'reopen-failed', error })
      throw new StoreFailingError('reopening the database after a failed write failed', { cause: error })
    } finally {
      this.#reopening = null
      done()
    }
  }

  /**
   * Writes (and syncs) a file as large as the logs a reopen replays into a table, plus the
   * manifest it rewrites, then removes it. Resolves null when it fitted, else with the error.
   */
  async #probeRoomToReopen(): Promise<unknown> {
    const probe = join(this.#dir, PROBE_FILE)
    try {
      let bytes = REOPEN_MARGIN_BYTES
      for (const name of await readdir(this.#dir)) {
        if (/^(\d+\.log|MANIFEST-\d+)$/.test(name)) bytes += (await stat(join(this.#dir, name))).size
      }
      const handle = await openFile(probe, 'w')
      try {
        await handle.writeFile(Buffer.alloc(bytes))
        await handle.sync()
      } finally {
        await handle.close()
      }
      return null
    } catch (error) {
      return error
    } finally {
      await rm(probe, { force: true }).catch(() => undefined)
    }
  }

  /**
   * Retries the reopen with backoff while nobody writes (a failed write of an API call or of the
   * webhook outbox is not retried by anyone), so the store and /readyz recover by themselves.
   */
  async #recoverInBackground(): Promise<void> {
    if (this.#isRecoveringInBackground) return
    this.#isRecoveringInBackground = true
    try {
      for (let attempt = 0; this.#needsRecovery(); attempt += 1) {
        await this.#delay(Math.min(MAX_RECOVERY_DELAY_MS, FIRST_RECOVERY_DELAY_MS * 2 ** attempt))
        if (this.#needsRecovery()) await this.recover().catch(() => undefined)
      }
    } finally {
      this.#isRecoveringInBackground = false
    }
  }

  #needsRecovery(): boolean {
    return this.#lifecycle.kind === 'failing' || this.#lifecycle.kind === 'unavailable'
  }

  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer)
        this.#wake = null
        resolve()
      }
      const timer = setTimeout(wake, ms)
      timer.unref()
      this.#wake = wake
    })
  }
}
