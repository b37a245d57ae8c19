import { CLOSE_REASONS, decodeMessage, encodeMessage, type CloseReason, type Message } from '@tandem/shared'
import { describe, expect, it, vi } from 'vitest'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { Persister } from '../src/core/Persister.ts'
import { Room } from '../src/core/Room.ts'
import type { Peer, Role } from '../src/core/types.ts'
import type { AppendEntry, DocStore } from '../src/persistence/DocStore.ts'
import { MemoryStore } from '../src/persistence/MemoryStore.ts'

/** A Peer that records what the room sends it: the core's only collaborator besides the store. */
class RecordingPeer implements Peer {
  readonly received: Message[] = []
  closedWith: CloseReason | null = null
  readonly viewerName = ''
  readonly resumeFrom = null
  readonly isProbe = false
  constructor(
    readonly id: string,
    readonly role: Role = 'edit',
    readonly wantsAcks = true,
  ) {}
  send(frame: Uint8Array): void {
    this.received.push(decodeMessage(frame))
  }
  /** A test client is always there, unless a test says otherwise (R36). */
  isAlive = true
  checkAlive(): Promise<boolean> {
    return Promise.resolve(this.isAlive)
  }
  close(reason: CloseReason): void {
    this.closedWith = reason
  }
  of<T extends Message['type']>(type: T): Array<Extract<Message, { type: T }>> {
    return this.received.filter((m): m is Extract<Message, { type: T }> => m.type === type)
  }
}

/** A store whose writes fail until `heal()`: a full disk, for R8. */
class FlakyStore extends MemoryStore {
  isFailing = true
  appendCalls = 0
  override append(entries: readonly AppendEntry[]): Promise<void> {
    this.appendCalls += 1
    if (this.isFailing) return Promise.reject(new Error('ENOSPC: no space left on device'))
    return super.append(entries)
  }
}

function setup(store: DocStore = new MemoryStore()): { room: Room; persister: Persister; store: DocStore } {
  const persister = new Persister(store, { retryDelayMs: 5, maxRetryDelayMs: 20 })
  return { room: new Room('doc', null, persister), persister, store }
}

function updateFrom(text: string, doc = new Y.Doc()): Uint8Array {
  const before = Y.encodeStateVector(doc)
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc, before)
}

const frame = (message: Message): Uint8Array => encodeMessage(message)

describe('Room', () => {
  it('[R1] greets a joining peer with sync step 1', () => {
    const { room } = setup()
    const peer = new RecordingPeer('a')
    room.add(peer)
    expect(peer.received[0]?.type).toBe('sync-step1')
  })

  it('[R1] answers sync step 1 with the missing state as step 2', () => {
    const { room } = setup()
    const writer = new RecordingPeer('w')
    room.add(writer)
    room.receive(writer, frame({ type: 'sync-update', update: updateFrom('hello') }))
    const reader = new RecordingPeer('r')
    room.add(reader)
    room.receive(reader, frame({ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) }))
    const step2 = reader.of('sync-step2')[0]
    const copy = new Y.Doc()
    Y.applyUpdate(copy, step2?.update ?? new Uint8Array())
    expect(copy.getText('t').toString()).toBe('hello')
  })

  it('[R1] fans an update out to every other peer with the same bytes, not back to the sender', async () => {
    const { room } = setup()
    const [a, b, c] = [new RecordingPeer('a'), new RecordingPeer('b'), new RecordingPeer('c')]
    for (const peer of [a, b, c]) room.add(peer)
    room.receive(a, frame({ type: 'sync-update', update: updateFrom('x') }))
    await vi.waitFor(() => expect(b.of('sync-update')).toHaveLength(1))
    expect(a.of('sync-update')).toHaveLength(0)
    expect(c.of('sync-update')[0]?.update).toEqual(b.of('sync-update')[0]?.update)
  })

  it('[R5][R10] a room loaded from storage answers joiners from the stored bytes and loads Yjs on first edit', async () => {
    const author = new Y.Doc()
    const entries = [updateFrom('world', author), updateFrom('hello ', author), updateFrom('>', author)]
    const expected = new Y.Doc()
    for (const entry of entries) Y.applyUpdate(expected, entry)
    const store = new MemoryStore()
    await store.create('doc', 'key')
    await store.append(entries.map((update) => ({ docId: 'doc', update })))
    const room = new Room(
      'doc',
      await store.load('doc'),
      new Persister(store, { retryDelayMs: 1, maxRetryDelayMs: 1 }),
    )
    const joiner = new RecordingPeer('joiner')
    room.add(joiner)
    // The state vector is the stored document's; a new client's step 2 holds all of it.
    expect(joiner.of('sync-step1')[0]?.stateVector).toEqual(Y.encodeStateVector(expected))
    room.receive(joiner, frame({ type: 'sync-step1', stateVector: Y.encodeStateVector(new Y.Doc()) }))
    room.receive(joiner, frame({ type: 'sync-step2', update: Y.encodeStateAsUpdate(new Y.Doc()) }))
    const replica = new Y.Doc()
    Y.applyUpdate(replica, joiner.of('sync-step2')[0]?.update ?? new Uint8Array())
    expect(replica.getText('t').toString()).toBe('>hello world')
    // An edit needs the document: it is loaded, and the edit lands on the stored content.
    room.receive(joiner, frame({ type: 'sync-update', update: updateFrom('!', replica) }))
    expect(joiner.closedWith).toBeNull()
    expect(room.doc.getText('t').toString()).toBe('!>hello world')
    room.destroy()
  })

  it('[R1] updates applied in one event-loop turn go out as one merged update', async () => {
    const { room } = setup()
    const [a, b, c] = [new RecordingPeer('a'), new RecordingPeer('b'), new RecordingPeer('c')]
    for (const peer of [a, b, c]) room.add(peer)
    const docA = new Y.Doc()
    room.receive(a, frame({ type: 'sync-update', update: updateFrom('1', docA) }))
    room.receive(a, frame({ type: 'sync-update', update: updateFrom('2', docA) }))
    await vi.waitFor(() => expect(c.of('sync-update')).toHaveLength(1))
    // One author: everyone else gets one frame holding both; the author gets nothing back.
    expect(a.of('sync-update')).toHaveLength(0)
    expect(b.of('sync-update')).toHaveLength(1)
    const replica = new Y.Doc()
    Y.applyUpdate(replica, c.of('sync-update')[0]?.update ?? new Uint8Array())
    expect(replica.getText('t').toString()).toBe(room.doc.getText('t').toString())
    // Two authors in one turn: one frame for everyone, authors included (Yjs ignores what it has).
    room.receive(a, frame({ type: 'sync-update', update: updateFrom('3', docA) }))
    room.receive(b, frame({ type: 'sync-update', update: updateFrom('4') }))
    await vi.waitFor(() => expect(c.of('sync-update')).toHaveLength(2))
    expect(a.of('sync-update')).toHaveLength(1)
    expect(b.of('sync-update')).toHaveLength(2)
    Y.applyUpdate(replica, c.of('sync-update')[1]?.update ?? new Uint8Array())
    expect(replica.getText('t').toString()).toBe(room.doc.getText('t').toString())
  })

  it('[R6][R7] acks an update as saved only after its group commit is written', async () => {
    const store = new MemoryStore()
    const append = vi.spyOn(store, 'append')
    const { room } = setup(store)
    const peer = new RecordingPeer('a')
    room.add(peer)
    const doc = new Y.Doc()
    room.receive(peer, frame({ type: 'sync-update', update: updateFrom('1', doc) }))
    room.receive(peer, frame({ type: 'sync-update', update: updateFrom('2', doc) }))
    expect(peer.of('saved')).toHaveLength(0)
    await vi.waitFor(() => expect(peer.of('saved').at(-1)?.seq).toBe(2))
    // Both updates of the same event-loop turn went in one batch.
    expect(append).toHaveBeenCalledTimes(1)
    expect(append.mock.calls[0]?.[0]).toHaveLength(2)
    expect((await store.load('doc'))?.updates).toHaveLength(2)
  })

  it('[R7] does not send acks to peers that did not opt in', async () => {
    const { room, persister } = setup()
    const stock = new RecordingPeer('s', 'edit', false)
    room.add(stock)
    room.receive(stock, frame({ type: 'sync-update', update: updateFrom('x') }))
    await persister.flush()
    expect(stock.received.map((m) => m.type)).not.toContain('saved')
  })

  it('[R8] a failing store: no ack, clients told, room dirty; recovers and acks when writes succeed', async () => {
    const store = new FlakyStore()
    const { room } = setup(store)
    const peer = new RecordingPeer('a')
    room.add(peer)
    room.receive(peer, frame({ type: 'sync-update', update: updateFrom('keep me') }))
    await vi.waitFor(() => expect(peer.of('persistence').at(-1)?.state).toBe('failing'))
    await vi.waitFor(() => expect(store.appendCalls).toBeGreaterThanOrEqual(2))
    expect(peer.of('saved')).toHaveLength(0)
    expect(room.isDirty).toBe(true)
    store.isFailing = false
    await vi.waitFor(() => expect(peer.of('saved').at(-1)?.seq).toBe(1))
    expect(peer.of('persistence').at(-1)?.state).toBe('ok')
    expect(room.isDirty).toBe(false)
    const copy = new Y.Doc()
    for (const update of (await store.load('doc'))?.updates ?? []) Y.applyUpdate(copy, update)
    expect(copy.getText('t').toString()).toBe('keep me')
  })

  it('[R4] relays awareness and removes a leaving peer’s states for everyone', () => {
    const { room } = setup()
    const [a, b] = [new RecordingPeer('a'), new RecordingPeer('b')]
    room.add(a)
    room.add(b)
    const clientDoc = new Y.Doc()
    const awareness = new awarenessProtocol.Awareness(clientDoc)
    awareness.setLocalState({ user: { name: 'Ann' } })
    const update = awarenessProtocol.encodeAwarenessUpdate(awareness, [clientDoc.clientID])
    room.receive(a, frame({ type: 'awareness', update }))
    expect(room.awareness.getStates().get(clientDoc.clientID)).toEqual({ user: { name: 'Ann' } })
    expect(b.of('awareness')).toHaveLength(1)
    room.remove(a)
    expect(room.awareness.getStates().has(clientDoc.clientID)).toBe(false)
    const observer = new awarenessProtocol.Awareness(new Y.Doc())
    for (const message of b.of('awareness'))
      awarenessProtocol.applyAwarenessUpdate(observer, message.update, null)
    expect(observer.getStates().has(clientDoc.clientID)).toBe(false)
    awareness.destroy()
  })

  it('[R11] closes only the peer that sends garbage', () => {
    const { room } = setup()
    const [bad, good] = [new RecordingPeer('bad'), new RecordingPeer('good')]
    room.add(bad)
    room.add(good)
    room.receive(bad, new Uint8Array([0, 2, 3, 255, 255, 255]))
    expect(bad.closedWith).toBe(CLOSE_REASONS.invalidUpdate)
    expect(good.closedWith).toBeNull()
    expect(room.peerCount).toBe(1)
    room.receive(good, frame({ type: 'sync-update', update: updateFrom('fine') }))
    expect(room.doc.getText('t').toString()).toBe('fine')
  })

  it('[R10] a stored value that cannot be decoded throws instead of loading an empty document', () => {
    const persister = new Persister(new MemoryStore(), { retryDelayMs: 5, maxRetryDelayMs: 5 })
    const stored = {
      meta: { createdAt: 0, updatedAt: 0, storedBytes: 3, logLength: 1, version: 1, linkKey: 'k' },
    }
    expect(() => new Room('doc', { ...stored, updates: [new Uint8Array([1, 2, 3])] }, persister)).toThrow()
  })
})
