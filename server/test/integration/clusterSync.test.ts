import { CLOSE_REASONS, decodeMessage, encodeMessage } from '@tandem/shared'
import { Redis } from 'ioredis'
import { randomBytes } from 'node:crypto'
import * as awarenessProtocol from 'y-protocols/awareness'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { RedisBus } from '../../src/cluster/RedisBus.ts'
import { ClusterSync } from '../../src/core/ClusterSync.ts'
import { encodeClusterMessage } from '../../src/core/clusterMessages.ts'
import { Persister } from '../../src/core/Persister.ts'
import { RoomRegistry, type Connection } from '../../src/core/RoomRegistry.ts'
import type { Peer } from '../../src/core/types.ts'
import { MemoryStore } from '../../src/persistence/MemoryStore.ts'
import { eventually } from './support/clients.ts'
import { REDIS_URL, killClients, subscriberIds } from './support/redis.ts'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Node {
  readonly registry: RoomRegistry
  readonly persister: Persister
  readonly sync: ClusterSync
  readonly catchUps: string[]
}

/** One node of a cluster in this process: its own registry and Redis connections, a shared store. */
async function startNode(store: MemoryStore, prefix: string, name: string): Promise<Node> {
  const bus = await RedisBus.open({ url: REDIS_URL, prefix })
  const persister = new Persister(store, { retryDelayMs: 5, maxRetryDelayMs: 50 })
  const catchUps: string[] = []
  const sync = new ClusterSync({
    bus,
    nodeId: `${name}-${randomBytes(3).toString('hex')}`,
    load: (docId) => store.load(docId),
    onCatchUp: (_docId, reason) => catchUps.push(reason),
  })
  persister.onCommitted((entries) => sync.committed(entries))
  const registry: RoomRegistry = new RoomRegistry(store, persister, {
    roomIdleMs: 60_000,
    maxPendingBytes: 1024 * 1024,
    links: sync,
    roomOptions: (docId) => ({ onPresence: (update) => sync.presence(docId, update) }),
  })
  cleanups.push(async () => {
    await registry.close()
    sync.destroy()
    persister.close()
    await bus.close()
  })
  return { registry, persister, sync, catchUps }
}

/** A client in this process: a Y.Doc and an awareness fed by what its node sends. */
interface Client {
  readonly doc: Y.Doc
  readonly awareness: awarenessProtocol.Awareness
  readonly connection: Connection
  type(text: string): void
}

function connect(node: Node, docId: string, id: string): Client {
  const doc = new Y.Doc()
  const awareness = new awarenessProtocol.Awareness(doc)
  awareness.setLocalState(null)
  const peer: Peer = {
    id,
    role: 'edit',
    wantsAcks: false,
    viewerName: '',
    resumeFrom: null,
    isProbe: false,
    send(frame) {
      const message = decodeMessage(frame)
      if (message.type === 'sync-step2' || message.type === 'sync-update')
        Y.applyUpdate(doc, message.update, 'server')
      if (message.type === 'awareness')
        awarenessProtocol.applyAwarenessUpdate(awareness, message.update, 'server')
    },
    close() {},
    checkAlive: () => Promise.resolve(true),
  }
  const connection = node.registry.connect(docId, peer)
  doc.on('update', (update: Uint8Array, origin: unknown) => {
    if (origin !== 'server') connection.receive(encodeMessage({ type: 'sync-update', update }))
  })
  return {
    doc,
    awareness,
    connection,
    type(text) {
      doc.getText('t').insert(doc.getText('t').length, text)
    },
  }
}

function text(client: Client): string {
  return client.doc.getText('t').toString()
}

/** Two nodes on one store and one channel prefix, each with a client in 'doc', both loaded. */
async function twoNodes(): Promise<{
  store: MemoryStore
  prefix: string
  a: Node
  b: Node
  onA: Client
  onB: Client
}> {
  const store = new MemoryStore()
  const prefix = `tandem-test-${randomBytes(4).toString('hex')}:`
  const [a, b] = await Promise.all([startNode(store, prefix, 'a'), startNode(store, prefix, 'b')])
  const onA = connect(a, 'doc', 'alice')
  const onB = connect(b, 'doc', 'bob')
  await eventually(() => expect(a.registry.peek('doc') && b.registry.peek('doc')).toBeTruthy())
  return { store, prefix, a, b, onA, onB }
}

describe('cluster sync over Redis (two nodes, one store)', () => {
  it('[R65] an edit accepted on one node reaches the other node’s clients, stored once', async () => {
    const { store, a, b, onA, onB } = await twoNodes()
    onA.type('hello ')
    await eventually(() => expect(text(onB)).toBe('hello '))
    onB.type('world')
    await eventually(() => expect(text(onA)).toBe('hello world'))
    await a.persister.flush()
    await b.persister.flush()
    const stored = await store.load('doc')
    expect(stored?.updates).toHaveLength(2)
  })

  it('[R65] a node whose Redis connection dropped catches up from the store', async () => {
    const { prefix: p, b, onA, onB } = await twoNodes()
    onA.type('one ')
    await eventually(() => expect(text(onB)).toBe('one '))
    // Every subscriber connection is cut; the edits made meanwhile are published to nobody.
    const admin = new Redis(REDIS_URL)
    cleanups.push(() => void admin.disconnect())
    await killClients(admin, await subscriberIds(admin, p))
    onA.type('two ')
    onA.type('three')
    await eventually(() => expect(text(onB)).toBe('one two three'))
    expect(b.catchUps.length).toBeGreaterThan(0)
  })

  it('[R65] a skipped sequence number makes the node read the document back', async () => {
    const { store, prefix: p, b, onA, onB } = await twoNodes()
    onA.type('first ')
    await eventually(() => expect(text(onB)).toBe('first '))
    // Written to the store by a third node whose message about it never arrives...
    const writer = new Y.Doc()
    Y.applyUpdate(writer, Y.encodeStateAsUpdate(onA.doc))
    const before = Y.encodeStateVector(writer)
    writer.getText('t').insert(writer.getText('t').length, 'lost ')
    await store.append([{ docId: 'doc', update: Y.encodeStateAsUpdate(writer, before) }])
    // ...B hears its message 1 and then its message 3: 2 is missing, so B reads the store.
    const third = new Redis(REDIS_URL)
    cleanups.push(() => void third.disconnect())
    for (const seq of [1, 3]) {
      const message = encodeClusterMessage({ type: 'update', source: 'c-1/1', seq, updates: [], writers: [] })
      await third.publish(`${p}doc:doc`, Buffer.from(message))
    }
    await eventually(() => expect(text(onB)).toContain('lost '))
    expect(b.catchUps).toContain('gap')
  })

  it('[R66] presence crosses nodes; a stock echo of it is dropped; leaving removes it everywhere', async () => {
    const { b, onA, onB } = await twoNodes()
    const alice = new awarenessProtocol.Awareness(new Y.Doc())
    alice.setLocalState({ user: { name: 'Alice' } })
    onA.connection.receive(
      encodeMessage({
        type: 'awareness',
        update: awarenessProtocol.encodeAwarenessUpdate(alice, [alice.clientID]),
      }),
    )
    await eventually(() =>
      expect(onB.awareness.getStates().get(alice.clientID)).toEqual({ user: { name: 'Alice' } }),
    )
    expect(b.registry.peek('doc')?.presence().editors).toEqual(['Alice'])
    // Bob's stock client sends every state it receives back: the same clock, dropped.
    onB.connection.receive(
      encodeMessage({
        type: 'awareness',
        update: awarenessProtocol.encodeAwarenessUpdate(onB.awareness, [alice.clientID]),
      }),
    )
    onA.connection.close()
    await eventually(() => expect(onB.awareness.getStates().has(alice.clientID)).toBe(false))
    alice.destroy()
  })
})

describe('cluster sync: closing a document everywhere', () => {
  it('[R19][R55] resetting links on one node closes the document’s connections on every node', async () => {
    const store = new MemoryStore()
    const p = `tandem-test-${randomBytes(4).toString('hex')}:`
    const [a, b] = await Promise.all([startNode(store, p, 'a'), startNode(store, p, 'b')])
    const closed: string[] = []
    connect(a, 'doc', 'alice')
    const peer: Peer = {
      id: 'bob',
      role: 'edit',
      wantsAcks: false,
      viewerName: '',
      resumeFrom: null,
      isProbe: false,
      send() {},
      close: (reason) => void closed.push(reason.text),
      checkAlive: () => Promise.resolve(true),
    }
    b.registry.connect('doc', peer)
    await eventually(() => expect(a.registry.peek('doc') && b.registry.peek('doc')?.peerCount).toBeTruthy())
    a.registry.closeAll('doc', CLOSE_REASONS.forbidden)
    await eventually(() => expect(closed).toEqual([CLOSE_REASONS.forbidden.text]))
    expect(b.registry.peek('doc')?.peerCount).toBe(0)
  })
})
