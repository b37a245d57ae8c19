import { PgDatabase } from '../../src/persistence/postgres/PgDatabase.ts'
import { PostgresOutboxStore } from '../../src/webhooks/PostgresOutboxStore.ts'
import { webhookMigrations } from '../../src/webhooks/postgresSchema.ts'
import { outboxStoreContract } from '../outboxStoreContract.ts'
import { createTestDatabase } from './support/postgres.ts'

// Each node has its own pool on one database, as in a cluster (R67).
outboxStoreContract('PostgresOutboxStore', async () => {
  const database = await createTestDatabase()
  const pools: PgDatabase[] = []
  const open = async (): Promise<PostgresOutboxStore> => {
    const db = await PgDatabase.open(database.url, { migrations: webhookMigrations })
    pools.push(db)
    return new PostgresOutboxStore(db)
  }
  return {
    outbox: await open(),
    async reopen() {
      await pools.shift()?.close()
      return open()
    },
    peer: open,
    async dispose() {
      for (const pool of pools) await pool.close()
      await database.drop()
    },
  }
})
