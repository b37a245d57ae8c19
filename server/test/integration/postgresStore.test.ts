import { afterEach, describe, expect, it, vi } from 'vitest'
import { Client } from 'pg'
import * as Y from 'yjs'
import { PgDatabase, type PgDatabaseEvent } from '../../src/persistence/postgres/PgDatabase.ts'
import { PostgresStore } from '../../src/persistence/postgres/PostgresStore.ts'
import { docMigrations } from '../../src/persistence/postgres/schema.ts'
import { docStoreContract } from '../docStoreContract.ts'
import {
  admin,
  createTestDatabase,
  readOnlyFaults,
  sessionsWaitingForLocks,
  terminateSessions,
  type TestDatabase,
} from './support/postgres.ts'

async function openStore(
  url: string,
  compactAfterEntries = 1000,
): Promise<{ db: PgDatabase; store: PostgresStore }> {
  const db = await PgDatabase.open(url, { migrations: docMigrations })
  return { db, store: new PostgresStore(db, { compactAfterEntries }) }
}

// The fault contract makes PostgreSQL itself refuse writes: the database turns read-only.
docStoreContract('PostgresStore', async () => {
  const database = await createTestDatabase()
  let current = await openStore(database.url)
  const closeCurrent = async (): Promise<void> => {
    await current.store.close()
    await current.db.close()
  }
  return {
    get store() {
      return current.store
    },
    faults: readOnlyFaults(database.url),
    async reopen() {
      await closeCurrent()
      current = await openStore(database.url)
      return current.store
    },
    async dispose() {
      await closeCurrent()
      await database.drop()
    },
  }
})

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function testDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase()
  cleanups.push(() => database.drop())
  return database
}

/** A store on its own pool: one "node" of a cluster. */
async function node(
  url: string,
  options: { compactAfterEntries?: number; onEvent?: (event: PgDatabaseEvent) => void } = {},
): Promise<{ db: PgDatabase; store: PostgresStore }> {
  const db = await PgDatabase.open(url, {
    migrations: docMigrations,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  })
  const store = new PostgresStore(db, { compactAfterEntries: options.compactAfterEntries ?? 1000 })
  cleanups.push(async () => {
    await store.close()
    await db.close()
  })
  return { db, store }
}

/** An author whose every edit is one update appending `token` to the text. */
function author(): { doc: Y.Doc; edit(token: string): Uint8Array } {
  const doc = new Y.Doc()
  return {
    doc,
    edit(token) {
      const before = Y.encodeStateVector(doc)
      doc.getText('t').insert(doc.getText('t').length, token)
      return Y.encodeStateAsUpdate(doc, before)
    },
  }
}

function replay(updates: readonly Uint8Array[]): string {
  const doc = new Y.Doc()
  for (const update of updates) Y.applyUpdate(doc, update)
  return doc.getText('t').toString()
}

describe('PostgresStore', () => {
  it('[R64] two nodes append to one document at once while compactions run: nothing is lost', async () => {
    const { url } = await testDatabase()
    const a = await node(url, { compactAfterEntries: 5 })
    const b = await node(url, { compactAfterEntries: 5 })
    const writers = [author(), author()]
    const tokens: string[] = []
    const appendAll = async (store: PostgresStore, index: number): Promise<void> => {
      const writer = writers[index] as ReturnType<typeof author>
      for (let i = 0; i < 60; i++) {
        // Batches of one to three updates, as a group commit would hold.
        const batch = Array.from({ length: 1 + (i % 3) }, (_, j) => {
          const token = `<${index}:${i}:${j}>`
          tokens.push(token)
          return { docId: 'shared', update: writer.edit(token) }
        })
        await store.append(batch)
      }
    }
    let isAppending = true
    // Node b also compacts on its own, as often as it can, while both nodes append.
    const compacting = (async () => {
      let runs = 0
      while (isAppending || runs === 0) {
        await b.store.compact('shared')
        runs += 1
      }
      return runs
    })()
    await Promise.all([appendAll(a.store, 0), appendAll(b.store, 1)])
    isAppending = false
    expect(await compacting).toBeGreaterThan(0)

    const loaded = await a.store.load('shared')
    const text = replay(loaded?.updates ?? [])
    expect(tokens.filter((token) => !text.includes(token))).toEqual([])
    expect(loaded?.meta.version).toBe(tokens.length)
    // The meta tells the truth about the log that is left.
    expect(loaded?.meta.logLength).toBe(loaded?.updates.length)
    expect(loaded?.meta.storedBytes).toBe(loaded?.updates.reduce((sum, update) => sum + update.byteLength, 0))
    expect(loaded?.meta.compactedBytes).toBeGreaterThan(0)
    expect(loaded?.updates.length).toBeLessThan(tokens.length / 4)
  })

  it('[R64] two nodes binding writers: the first binding of a client id wins', async () => {
    const { url } = await testDatabase()
    const a = await node(url)
    const b = await node(url)
    const writer = author()
    await a.store.append([{ docId: 'd', update: writer.edit('a'), writers: [[1, 'first']] }])
    await b.store.append([
      {
        docId: 'd',
        update: writer.edit('b'),
        writers: [
          [1, 'second'],
          [2, 'other'],
        ],
      },
    ])
    expect([...((await b.store.load('d'))?.writers ?? [])]).toEqual([
      [1, 'first'],
      [2, 'other'],
    ])
  })

  it('[R5] compacts into one entry; later appends follow it; compactTo skips a stale version', async () => {
    const { url } = await testDatabase()
    const { store } = await node(url)
    const writer = author()
    for (let i = 0; i < 25; i++) await store.append([{ docId: 'd', update: writer.edit(`${i};`) }])
    await store.compact('d')
    let loaded = await store.load('d')
    expect(loaded?.updates).toHaveLength(1)
    expect(loaded?.meta).toMatchObject({ logLength: 1, version: 25 })
    await store.append([{ docId: 'd', update: writer.edit('last') }])
    loaded = await store.load('d')
    expect(replay(loaded?.updates ?? [])).toBe(writer.doc.getText('t').toString())
    // A stale version (something was appended since) leaves the log alone; the current one writes.
    await store.compactTo('d', Y.encodeStateAsUpdate(writer.doc), 25)
    expect((await store.load('d'))?.updates).toHaveLength(2)
    await store.compactTo('d', Y.encodeStateAsUpdate(writer.doc), 26)
    loaded = await store.load('d')
    expect(loaded?.meta).toMatchObject({ logLength: 1, version: 26 })
    expect(replay(loaded?.updates ?? [])).toBe(writer.doc.getText('t').toString())
  })

  it('[R64] migrations run once, in order, when several nodes start at the same time', async () => {
    const { url } = await testDatabase()
    const migrations = [
      ...docMigrations,
      { id: 'test/001-counter', sql: 'CREATE TABLE test_counter (n integer NOT NULL)' },
      { id: 'test/002-count', sql: 'INSERT INTO test_counter (n) VALUES (1)' },
    ]
    const applied: string[] = []
    const onEvent = (event: PgDatabaseEvent): void => {
      if (event.kind === 'migrated') applied.push(event.id)
    }
    const databases = await Promise.all(
      Array.from({ length: 4 }, () => PgDatabase.open(url, { migrations, onEvent })),
    )
    try {
      expect(applied).toEqual(['database/001-write-probe', ...migrations.map((migration) => migration.id)])
      const { rows } = await databases[0]!.query<{ count: string }>('SELECT count(*) FROM test_counter')
      expect(rows[0]?.count).toBe('1')
      // A later start with one more migration (another module's) runs that one only.
      applied.length = 0
      const later = await PgDatabase.open(url, {
        migrations: [...migrations, { id: 'test/003-count', sql: 'INSERT INTO test_counter (n) VALUES (2)' }],
        onEvent,
      })
      await later.close()
      expect(applied).toEqual(['test/003-count'])
    } finally {
      for (const database of databases) await database.close()
    }
  })

  it('[R64] a migration that fails is not recorded and fails the start', async () => {
    const { url } = await testDatabase()
    const broken = { id: 'test/001-broken', sql: 'CREATE TABLE test_half (n integer); SELECT * FROM nowhere' }
    await expect(PgDatabase.open(url, { migrations: [broken] })).rejects.toThrow(/test\/001-broken/)
    const fixed = { id: 'test/001-broken', sql: 'CREATE TABLE test_half (n integer)' }
    const db = await PgDatabase.open(url, { migrations: [fixed] })
    await db.close()
  })

  it('[R57][R64] connections killed during appends: an append resolves only once committed, and the store recovers by itself', async () => {
    const { url } = await testDatabase()
    const events: PgDatabaseEvent[] = []
    const { store } = await node(url, { onEvent: (event) => events.push(event) })
    const acknowledged: string[] = []
    let rejected = 0
    let isRunning = true
    const appending = (async () => {
      for (let i = 0; isRunning || i < 10; i++) {
        const token = `[${i}]`
        try {
          // Each token by an author of its own: a lost one leaves no later one pending.
          await store.append([{ docId: 'd', update: author().edit(token) }])
          acknowledged.push(token)
        } catch {
          rejected += 1
        }
      }
    })()
    // Kill this node's sessions again and again while it appends.
    for (let kill = 0; kill < 8; kill++) {
      const before = acknowledged.length + rejected
      await vi.waitFor(() => expect(acknowledged.length + rejected).toBeGreaterThan(before + 2), {
        timeout: 10_000,
        interval: 5,
      })
      await terminateSessions(url)
    }
    isRunning = false
    await appending
    expect(acknowledged.length).toBeGreaterThan(10)
    // By itself, without another write, the store is open again.
    await vi.waitFor(() => expect(store.state).toBe('open'), { timeout: 10_000, interval: 10 })
    await store.append([{ docId: 'd', update: author().edit('[after]') }])
    acknowledged.push('[after]')

    const other = await node(url)
    const text = replay((await other.store.load('d'))?.updates ?? [])
    expect(acknowledged.filter((token) => !text.includes(token))).toEqual([])
    if (rejected > 0) expect(events.some((event) => event.kind === 'write-failed')).toBe(true)
  })

  it('[R57][R64] an append whose connection is killed inside its transaction rejects; the store recovers by itself', async () => {
    const { url } = await testDatabase()
    const { store } = await node(url)
    await store.append([{ docId: 'd', update: author().edit('[before]') }])
    // Another session holds a lock the append's transaction waits for: it is surely in flight.
    const holder = new Client({ connectionString: url })
    holder.on('error', () => undefined)
    await holder.connect()
    try {
      await holder.query('BEGIN')
      await holder.query('LOCK TABLE tandem_docs IN EXCLUSIVE MODE')
      const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid
      const outcome = store.append([{ docId: 'd', update: author().edit('[lost]') }]).then(
        () => 'resolved',
        () => 'rejected',
      )
      await vi.waitFor(async () => expect(await sessionsWaitingForLocks(url)).toBeGreaterThan(0))
      await terminateSessions(url, holderPid === undefined ? [] : [holderPid])
      expect(await outcome).toBe('rejected')
      expect(store.state).toBe('failing')
      await holder.query('ROLLBACK')
    } finally {
      await holder.end()
    }
    await vi.waitFor(() => expect(store.state).toBe('open'), { timeout: 10_000, interval: 10 })
    await store.append([{ docId: 'd', update: author().edit('[after]') }])
    const text = replay((await store.load('d'))?.updates ?? [])
    expect(text).toContain('[before]')
    expect(text).toContain('[after]')
    expect(text).not.toContain('[lost]')
  })

  it('[R64] an idle pooled connection that breaks is dropped without crashing; reads go on', async () => {
    const { url } = await testDatabase()
    const events: PgDatabaseEvent[] = []
    const { db, store } = await node(url, { onEvent: (event) => events.push(event) })
    await store.create('d', 'key')
    await Promise.all([store.getMeta('d'), store.getMeta('d'), store.getMeta('d')])
    expect(await terminateSessions(url)).toBeGreaterThan(0)
    await vi.waitFor(() => expect(events.map((event) => event.kind)).toContain('idle-connection-error'))
    expect((await store.getMeta('d'))?.linkKey).toBe('key')
    expect(db.state).toBe('open')
    expect(await admin(() => Promise.resolve(true))).toBe(true)
  })
})
