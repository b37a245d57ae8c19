import { SyncProvider } from '@tandem/client/sync'
import type * as awarenessProtocol from 'y-protocols/awareness'
import { describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { createDoc, stockClient, type CreatedDoc } from './support/clients.ts'
import { startCluster, startPrivatePostgres, startPrivateRedis, type Cluster } from './support/cluster.ts'
import { within } from './support/serverProcess.ts'
import { TOKEN, Writer, destroy, occurrences } from './support/writers.ts'

/** Writers spread over the nodes by the balancer: two per node. */
const WRITERS_PER_NODE = 2

function client(baseUrl: string, doc: CreatedDoc, mode: 'edit' | 'view' = 'edit'): SyncProvider {
  return new SyncProvider({
    doc: new Y.Doc(),
    docId: doc.id,
    token: mode === 'edit' ? doc.editToken : doc.viewToken,
    mode,
    baseUrl,
    transport: mode === 'edit' ? 'websocket' : 'sse',
    WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket,
    backoff: { baseMs: 20, maxMs: 300 },
  })
}

async function startWriters(cluster: Cluster, doc: CreatedDoc, nodes: number): Promise<Writer[]> {
  const writers: Writer[] = []
  // One at a time, so the balancer's round robin puts each on the next node.
  for (let index = 0; index < nodes * WRITERS_PER_NODE; index++) {
    const writer = new Writer(client(cluster.balancer.url('http'), doc), `w${index}`, { min: 40, max: 120 })
    await within(writer.client.whenSynced(), 10_000, `writer ${index} syncing`)
    writers.push(writer)
  }
  for (const writer of writers) writer.startTyping()
  return writers
}

/** Waits until every writer has had `count` more of its tokens acknowledged than `from`. */
async function moreAcks(
  writers: readonly Writer[],
  count: number,
  from = writers.map(() => 0),
): Promise<void> {
  await vi.waitFor(
    () => {
      writers.forEach((writer, index) =>
        expect(writer.acknowledgedCount).toBeGreaterThanOrEqual((from[index] ?? 0) + count),
      )
    },
    { timeout: 30_000, interval: 20 },
  )
}

/** Stops typing, waits for every writer to be saved, and checks the document on every live node. */
async function settleAndCheck(cluster: Cluster, doc: CreatedDoc, writers: readonly Writer[]): Promise<void> {
  await Promise.all(writers.map((writer) => writer.stopTyping()))
  await vi.waitFor(
    () => {
      for (const writer of writers) expect(writer.client.status.save).toBe('saved')
    },
    { timeout: 30_000, interval: 20 },
  )
  const typed = new Set(writers.flatMap((writer) => writer.typed))
  const acknowledged = writers.flatMap((writer) => writer.acknowledged)
  for (const node of cluster.nodes) {
    if (!node) continue
    const reader = client(node.url, doc, 'view')
    try {
      // Every node converges on the same text: every token typed, each once, nothing else.
      await vi.waitFor(
        async () => {
          await reader.whenSynced()
          const text = reader.doc.getText('t').toString()
          expect(text.replace(TOKEN, '')).toBe('')
          const counts = occurrences(text)
          expect([...typed].filter((token) => counts.get(token) !== 1)).toEqual([])
          expect(counts.size).toBe(typed.size)
        },
        { timeout: 30_000, interval: 50 },
      )
      const counts = occurrences(reader.doc.getText('t').toString())
      expect(acknowledged.filter((token) => counts.get(token) !== 1)).toEqual([])
    } finally {
      destroy(reader)
    }
  }
  for (const writer of writers) destroy(writer.client)
}

/** Starting three processes, typing through a fault and settling take their time on two cores. */
const FAULT_TEST_MS = 120_000

describe('cluster faults (real processes, PostgreSQL and Redis)', () => {
  it(
    '[R64][R65] kill -9 of a node while writers type on every node: its writers move to another node; every acknowledged edit is there exactly once',
    async () => {
      const cluster = await startCluster({ size: 3 })
      const doc = await createDoc(cluster.node(0).url)
      const writers = await startWriters(cluster, doc, 3)
      await moreAcks(writers, 3)
      const before = writers.map((writer) => writer.acknowledgedCount)
      await cluster.kill9(1)
      // The killed node's writers reconnect through the balancer to a live node and go on.
      await moreAcks(writers, 5, before)
      await settleAndCheck(cluster, doc, writers)
    },
    FAULT_TEST_MS,
  )

  it(
    '[R66] presence of a node that died disappears on the others within the awareness timeout, from carets and the dashboard',
    async () => {
      const cluster = await startCluster({ size: 2 })
      const doc = await createDoc(cluster.node(0).url)
      const ws = (url: string): string => url.replace('http', 'ws') + '/ws'
      const doomed = stockClient(ws(cluster.node(0).url), doc.id, doc.editToken)
      const watcher = stockClient(ws(cluster.node(1).url), doc.id, doc.editToken)
      doomed.awareness.setLocalStateField('user', { name: 'Doomed' })
      const namesOnSecond = async (): Promise<string[]> =>
        (
          (await (await fetch(`${cluster.node(1).url}/api/docs/${doc.id}?k=${doc.viewToken}`)).json()) as {
            editorNames: string[]
          }
        ).editorNames
      await vi.waitFor(() => expect(names(watcher.awareness)).toContain('Doomed'), { timeout: 10_000 })
      await vi.waitFor(async () => expect(await namesOnSecond()).toContain('Doomed'), { timeout: 10_000 })
      // The stock client stops first, so it cannot carry its presence over to the other node.
      doomed.shouldConnect = false
      const killedAt = Date.now()
      await cluster.kill9(0)
      doomed.disconnect()
      await vi.waitFor(() => expect(names(watcher.awareness)).not.toContain('Doomed'), {
        timeout: 45_000,
        interval: 100,
      })
      await vi.waitFor(async () => expect(await namesOnSecond()).not.toContain('Doomed'), {
        timeout: 45_000,
        interval: 100,
      })
      console.info(`[R66] a dead node's presence was gone after ${Date.now() - killedAt} ms`)
    },
    FAULT_TEST_MS,
  )

  it(
    '[R65] Redis killed and restarted during typing: nothing acknowledged is lost and every node catches up by itself',
    async () => {
      const redis = await startPrivateRedis()
      const cluster = await startCluster({ size: 2, redisUrl: redis.url })
      const doc = await createDoc(cluster.node(0).url)
      const writers = await startWriters(cluster, doc, 2)
      await moreAcks(writers, 3)
      await redis.kill9()
      // Without Redis every node still saves its own writers' edits in PostgreSQL.
      await moreAcks(
        writers,
        3,
        writers.map((writer) => writer.acknowledgedCount),
      )
      await redis.start()
      await moreAcks(
        writers,
        3,
        writers.map((writer) => writer.acknowledgedCount),
      )
      await settleAndCheck(cluster, doc, writers)
    },
    FAULT_TEST_MS,
  )

  it(
    '[R64] PostgreSQL crashed and restarted during typing: no ack while it is down, nothing acknowledged lost, the cluster recovers by itself',
    async () => {
      const postgres = await startPrivatePostgres()
      const cluster = await startCluster({ size: 2, databaseUrl: postgres.url })
      const doc = await createDoc(cluster.node(0).url)
      const writers = await startWriters(cluster, doc, 2)
      await moreAcks(writers, 3)
      await postgres.crash()
      // Acks already on the wire may still arrive; once every writer shows unsaved edits, none may.
      await vi.waitFor(
        () => {
          for (const writer of writers) expect(writer.client.status.save).not.toBe('saved')
        },
        { timeout: 10_000, interval: 10 },
      )
      const whileDown = writers.map((writer) => writer.acknowledgedCount)
      const typedWhileDown = writers.map((writer) => writer.typed.length)
      await vi.waitFor(
        () =>
          writers.forEach((writer, index) =>
            expect(writer.typed.length).toBeGreaterThan((typedWhileDown[index] ?? 0) + 10),
          ),
        { timeout: 10_000, interval: 20 },
      )
      expect(writers.map((writer) => writer.acknowledgedCount)).toEqual(whileDown)
      await postgres.start()
      await moreAcks(writers, 3, whileDown)
      await settleAndCheck(cluster, doc, writers)
    },
    FAULT_TEST_MS,
  )
})

function names(awareness: awarenessProtocol.Awareness): string[] {
  return [...awareness.getStates().values()].flatMap((state) => {
    const name = (state as { user?: { name?: unknown } }).user?.name
    return typeof name === 'string' ? [name] : []
  })
}
