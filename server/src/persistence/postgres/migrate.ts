import type { PoolClient } from 'pg'

/**
 * One versioned schema change (SPEC R64). `id` is recorded once applied and never reused; prefix
 * it with the owning module (`docs/001-tables`). `sql` may hold several statements: it runs in one
 * transaction with the record of its id.
 */
export interface Migration {
  readonly id: string
  readonly sql: string
}

/**
 * Key of the session-level advisory lock held while migrations run: any fixed number, the same on
 * every node (advisory locks of one 64-bit key and of two 32-bit keys never collide).
 */
const MIGRATION_LOCK_KEY = 7_214_401_522

/**
 * Runs, in the given order, every migration whose id `tandem_migrations` does not hold yet, each
 * in its own transaction with the record of its id. Nodes starting at once queue on the advisory
 * lock; the next one in sees the ids the first recorded, so each migration runs exactly once.
 * Ids recorded but not given (a newer release's, another module's) are left alone. Takes the
 * client and ends its session, which also releases the lock when a statement failed.
 */
export async function runMigrations(
  client: PoolClient,
  migrations: readonly Migration[],
  onApplied: (id: string) => void,
): Promise<void> {
  // A session error while we hold the client would otherwise be an unhandled 'error' event; the
  // statement in flight rejects with it anyway.
  const ignore = (): void => undefined
  client.on('error', ignore)
  try {
    const ids = migrations.map((migration) => migration.id)
    const duplicate = ids.find((id, index) => ids.indexOf(id) !== index)
    if (duplicate !== undefined) throw new Error(`migration id ${duplicate} is given twice`)
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY])
    await client.query(
      `CREATE TABLE IF NOT EXISTS tandem_migrations (
        id text PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`,
    )
    const applied = new Set(
      (await client.query<{ id: string }>('SELECT id FROM tandem_migrations')).rows.map((row) => row.id),
    )
    for (const migration of migrations) {
      if (applied.has(migration.id)) continue
      try {
        await client.query('BEGIN')
        await client.query(migration.sql)
        await client.query('INSERT INTO tandem_migrations (id) VALUES ($1)', [migration.id])
        await client.query('COMMIT')
      } catch (error) {
        throw new Error(`migration ${migration.id} failed`, { cause: error })
      }
      onApplied(migration.id)
    }
  } finally {
    client.off('error', ignore)
    client.release(true)
  }
}
