import { randomBytes } from 'node:crypto'
import { userInfo } from 'node:os'
import { Client, escapeIdentifier } from 'pg'

/*
 * A small copy of server/test/integration/support/postgres.ts's create/drop: the e2e package does
 * not import the server's test tree (each package builds and typechecks on its own).
 */

const HOST = '127.0.0.1'
const PORT = 5432

export interface TestDatabase {
  /** postgres:// URL of a fresh, empty database of this test's own. */
  readonly url: string
  /** Ends every session still on it and drops it. */
  drop(): Promise<void>
}

/** The OS user (trust authentication on the test machine), as `psql` would connect. */
function user(): string {
  return process.env['PGUSER'] ?? userInfo().username
}

async function admin(statement: string): Promise<void> {
  const client = new Client({ host: HOST, port: PORT, user: user(), database: 'postgres' })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

/**
 * A database named `tandem_e2e_<random>` on the machine's PostgreSQL 15; `drop()` removes it WITH
 * (FORCE), so a node that was SIGKILLed with sessions open does not keep it alive.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `tandem_e2e_${randomBytes(6).toString('hex')}`
  const quoted = escapeIdentifier(name)
  await admin(`CREATE DATABASE ${quoted}`)
  return {
    url: `postgres://${encodeURIComponent(user())}@${HOST}:${PORT}/${name}`,
    drop: () => admin(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`),
  }
}
