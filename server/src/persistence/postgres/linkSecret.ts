import { randomBytes } from 'node:crypto'
import type { PgDatabase } from './PgDatabase.ts'

const LINK_SECRET_SETTING = 'link-secret'

/**
 * The secret that signs share links (SPEC R18), the same on every node (R64): LINK_SECRET when
 * configured, else 32 random bytes that the first node to need them stores in `tandem_settings`.
 * Nodes starting at once each offer their own; the first insert wins and all read that one.
 */
export async function loadLinkSecretFromDatabase(
  db: PgDatabase,
  configured: string | null,
): Promise<Uint8Array> {
  if (configured !== null) return Buffer.from(configured, 'utf8')
  return db.write(async (sql) => {
    await sql.query(
      'INSERT INTO tandem_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
      [LINK_SECRET_SETTING, randomBytes(32)],
    )
    const { rows } = await sql.query<{ value: Buffer }>('SELECT value FROM tandem_settings WHERE name = $1', [
      LINK_SECRET_SETTING,
    ])
    const value = rows[0]?.value
    if (!value) throw new Error('the link secret was not stored')
    return new Uint8Array(value)
  })
}
