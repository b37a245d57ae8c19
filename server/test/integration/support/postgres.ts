import { randomBytes } from 'node:crypto'
import { userInfo } from 'node:os'
import { Client, escapeIdentifier } from 'pg'

export interface TestDatabase {
  /** postgres:// URL of a fresh, empty database of this test's own. */
  readonly url: string
  /** Ends every session on it and drops it. */
  drop(): Promise<void>
}

const HOST = '127.0.0.1'
const PORT = 5432

/** The OS user (trust authentication on the test machine), as `psql` would connect. */
function user(): string {
  return process.env.PGUSER ?? userInfo().username
}

/** Runs `statements` on a short-lived connection to the `postgres` maintenance database. */
export async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ host: HOST, port: PORT, user: user(), database: 'postgres' })
  // A session error (the server restarted) rejects the statement in flight; not a crash.
  client.on('error', () => undefined)
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

/**
 * A database of its own for one test (real PostgreSQL 15 on 127.0.0.1:5432), named
 * `tandem_t_<random>`, dropped WITH (FORCE) by `drop()`.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tandem_t_${randomBytes(6).toString('hex')}`
  await admin((client) => client.query(`CREATE DATABASE ${escapeIdentifier(name)}`))
  return {
    url: `postgres://${encodeURIComponent(user())}@${HOST}:${PORT}/${name}`,
    async drop() {
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`))
    },
  }
}

/** The database name of a URL createTestDatabase returned. */
export function databaseName(url: string): string {
  return new URL(url).pathname.slice(1)
}

/**
 * Ends every session on the database but the caller's and those in `except` (pg_terminate_backend),
 * waiting until each has exited; resolves with how many there were.
 */
export async function terminateSessions(url: string, except: readonly number[] = []): Promise<number> {
  return admin(async (client) => {
    const { rows } = await client.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid, 5000) AS ended FROM pg_stat_activity
       WHERE datname = $1 AND pid <> pg_backend_pid() AND NOT pid = ANY($2::int[])`,
      [databaseName(url), except],
    )
    return rows.length
  })
}

/** How many sessions on the database wait for a lock. */
export async function sessionsWaitingForLocks(url: string): Promise<number> {
  return admin(async (client) => {
    const { rows } = await client.query<{ count: string }>(
      `SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`,
      [databaseName(url)],
    )
    return Number(rows[0]?.count ?? 0)
  })
}

/**
 * Makes the database refuse every write, for real (SPEC R57's fault contract): new sessions start
 * read-only, and the sessions open now are ended so none keeps writing. `free()` undoes both.
 */
export function readOnlyFaults(url: string): { fill(): Promise<void>; free(): Promise<void> } {
  const name = escapeIdentifier(databaseName(url))
  return {
    async fill() {
      await admin((client) => client.query(`ALTER DATABASE ${name} SET default_transaction_read_only = on`))
      await terminateSessions(url)
    },
    async free() {
      await admin((client) => client.query(`ALTER DATABASE ${name} RESET default_transaction_read_only`))
      await terminateSessions(url)
    },
  }
}
