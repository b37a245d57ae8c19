import { describe, expect, it } from 'vitest'
import { loadLinkSecretFromDatabase } from '../../src/persistence/postgres/linkSecret.ts'
import { PgDatabase } from '../../src/persistence/postgres/PgDatabase.ts'
import { PostgresVersionStore } from '../../src/persistence/postgres/PostgresVersionStore.ts'
import { settingsMigrations, versionMigrations } from '../../src/persistence/postgres/schema.ts'
import { versionStoreContract } from '../versionStoreContract.ts'
import { createTestDatabase } from './support/postgres.ts'

versionStoreContract('PostgresVersionStore', async () => {
  const database = await createTestDatabase()
  const db = await PgDatabase.open(database.url, { migrations: versionMigrations })
  let now = 0
  return {
    versions: new PostgresVersionStore(db, { now: () => now }),
    setNow: (ms: number) => (now = ms),
    async dispose() {
      await db.close()
      await database.drop()
    },
  }
})

describe('PostgresVersionStore', () => {
  it('[R62][R64] two nodes adding versions of one document at once pick distinct, increasing ids', async () => {
    const database = await createTestDatabase()
    const nodes = await Promise.all(
      [0, 1].map(() => PgDatabase.open(database.url, { migrations: versionMigrations })),
    )
    try {
      const [a, b] = nodes.map((db) => new PostgresVersionStore(db, { now: () => 1_000 }))
      const state = new Uint8Array([1])
      const added = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b)!.add('doc', { kind: 'auto', cause: 'pause', authors: [], state }),
        ),
      )
      expect(new Set(added.map((version) => version.id)).size).toBe(20)
      const listed = await a!.list('doc')
      expect(listed.map((version) => version.id)).toEqual(
        added
          .map((version) => version.id)
          .sort()
          .reverse(),
      )
    } finally {
      for (const db of nodes) await db.close()
      await database.drop()
    }
  })
})

describe('loadLinkSecretFromDatabase', () => {
  it('[R18][R64] every node gets the same generated secret; LINK_SECRET wins', async () => {
    const database = await createTestDatabase()
    const nodes = await Promise.all(
      [0, 1, 2].map(() => PgDatabase.open(database.url, { migrations: settingsMigrations })),
    )
    try {
      const secrets = await Promise.all(nodes.map((db) => loadLinkSecretFromDatabase(db, null)))
      expect(secrets[0]).toHaveLength(32)
      for (const secret of secrets) expect(Buffer.from(secret).equals(Buffer.from(secrets[0]!))).toBe(true)
      const configured = 'x'.repeat(32)
      expect(Buffer.from(await loadLinkSecretFromDatabase(nodes[0]!, configured)).toString()).toBe(configured)
      // The stored one stays for nodes without LINK_SECRET.
      expect(
        Buffer.from(await loadLinkSecretFromDatabase(nodes[1]!, null)).equals(Buffer.from(secrets[0]!)),
      ).toBe(true)
    } finally {
      for (const db of nodes) await db.close()
      await database.drop()
    }
  })
})
