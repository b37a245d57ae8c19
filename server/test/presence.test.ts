import {
  CLOSE_REASONS,
  decodeMessage,
  encodeAwarenessEntries,
  encodeMessage,
  type CloseReason,
  type Message,
} from '@tandem/shared'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { Persister } from '../src/core/Persister.ts'
import { Room } from '../src/core/Room.ts'
import type { Peer } from '../src/core/types.ts'
import { MemoryStore } from '../src/persistence/MemoryStore.ts'

/** A connection as the room sees it; `answers` says whether it would pass a liveness check (R36). */
class TestPeer implements Peer {
  readonly role = 'edit'
  readonly wantsAcks = true
  readonly viewerName = ''
  readonly resumeFrom = null
  readonly isProbe = false
  readonly received: Message[] = []
  closedWith: CloseReason | null = null
  livenessChecks = 0
  answers: boolean | 'never' = true
  constructor(
    readonly id: string,
    readonly writerKey: string | null = null,
  ) {}
  send(frame: Uint8Array): void {
    this.received.push(decodeMessage(frame))
  }
  close(reason: CloseReason): void {
    this.closedWith = reason
  }
  checkAlive(): Promise<boolean> {
    this.livenessChecks += 1
    if (this.answers === 'never') return new Promise(() => undefined)
    return Promise.resolve(this.answers)
  }
  /** The awareness states this client was sent, applied in order. */
  presenceSeen(): Map<number, unknown> {
    const mirror = new awarenessProtocol.Awareness(new Y.Doc())
    for (const message of this.received)
      if (message.type === 'awareness')
        awarenessProtocol.applyAwarenessUpdate(mirror, message.update, 'server')
    const states = new Map(mirror.getStates())
    states.delete(mirror.clientID)
    mirror.destroy()
    return states
  }
}

const rooms: Room[] = []
afterEach(() => {
  for (const room of rooms.splice(0)) room.destroy()
})

function newRoom(): Room {
  const room = new Room(
    'doc',
    null,
    new Persister(new MemoryStore(), { retryDelayMs: 5, maxRetryDelayMs: 5 }),
  )
  rooms.push(room)
  return room
}

function join(room: Room, peer: TestPeer): TestPeer {
  room.add(peer)
  return peer
}

const announce = (clientId: number, clock: number, state: unknown): Uint8Array =>
  encodeMessage({ type: 'awareness', update: encodeAwarenessEntries([{ clientId, clock, state }]) })

function liveEdit(doc: Y.Doc, text: string): Uint8Array {
  const before = Y.encodeStateVector(doc)
  doc.getText('t').insert(doc.getText('t').length, text)
  return encodeMessage({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc, before) })
}

/** An update of `client` writing `text` at `clock` onwards: what a forger would send. */
function editAs(client: number, text: string, clock = 0): Uint8Array {
  const doc = new Y.Doc()
  doc.clientID = client
  if (clock > 0) doc.getText('pad').insert(0, 'p'.repeat(clock))
  const before = Y.encodeStateVector(doc)
  doc.getText('t').insert(0, text)
  return Y.encodeStateAsUpdate(doc, before)
}

describe('presence from real clients', () => {
  it('[R33] a user who announced presence but has not typed yet keeps its client id', async () => {
    const room = newRoom()
    const user = new Y.Doc()
    const present = join(room, new TestPeer('present'))
    room.receive(present, announce(user.clientID, 1, { user: { name: 'Quiet' } }))
    // Another connection forges the quiet user's first edit: refused once the user is found alive.
    const forger = join(room, new TestPeer('forger'))
    room.receive(forger, encodeMessage({ type: 'sync-update', update: editAs(user.clientID, 'forged') }))
    await vi.waitFor(() => expect(forger.closedWith).toBe(CLOSE_REASONS.foreignClient))
    expect(present.livenessChecks).toBe(1)
    // A resync carrying the id applies without it.
    const resyncer = join(room, new TestPeer('resyncer'))
    room.receive(resyncer, encodeMessage({ type: 'sync-step2', update: editAs(user.clientID, 'resynced') }))
    expect(resyncer.closedWith).toBeNull()
    expect(room.doc.getText('t').toString()).toBe('')
    // The user's own first edit applies.
    room.receive(present, liveEdit(user, 'mine'))
    expect(room.doc.getText('t').toString()).toBe('mine')
    expect(present.closedWith).toBeNull()
  })

  it('[R33] a stock writer’s client id stays its own after it leaves; announcing it on return, it goes on', () => {
    const room = newRoom()
    const writer = new Y.Doc()
    const first = join(room, new TestPeer('first'))
    room.receive(first, announce(writer.clientID, 1, { user: { name: 'Stock' } }))
    room.receive(first, liveEdit(writer, 'one '))
    room.remove(first)
    // Offline, the writer types on; meanwhile someone burns its clock, live and by resync.
    const offline = liveEdit(writer, 'two')
    const burner = join(room, new TestPeer('burner'))
    room.receive(burner, encodeMessage({ type: 'sync-update', update: editAs(writer.clientID, 'x', 4) }))
    expect(burner.closedWith).toBe(CLOSE_REASONS.foreignClient)
    const resyncer = join(room, new TestPeer('resyncer'))
    room.receive(resyncer, encodeMessage({ type: 'sync-step2', update: editAs(writer.clientID, 'x', 4) }))
    expect(resyncer.closedWith).toBeNull()
    expect(room.doc.getText('t').toString()).toBe('one ')
    // Back, y-websocket announces itself, then sends what it typed.
    const back = join(room, new TestPeer('back'))
    room.receive(back, announce(writer.clientID, 1, { user: { name: 'Stock' } }))
    room.receive(back, offline)
    expect(back.closedWith).toBeNull()
    expect(room.doc.getText('t').toString()).toBe('one two')
  })
  it('[R32] a stock client echoing everyone’s state, many at once, is never closed and changes nothing', () => {
    const room = newRoom()
    const people = Array.from({ length: 40 }, (_, i) => join(room, new TestPeer(`p${i}`)))
    people.forEach((peer, i) => room.receive(peer, announce(1000 + i, 3, { user: { name: `P${i}` } })))
    const stock = join(room, new TestPeer('stock'))
    // What y-websocket sends when it joins: every state it was just sent, with the room's clocks.
    const echo = encodeAwarenessEntries(
      people.map((_, i) => ({ clientId: 1000 + i, clock: 3, state: { user: { name: `P${i}` } } })),
    )
    room.receive(stock, encodeMessage({ type: 'awareness', update: echo }))
    // …and, when someone leaves, that removal at the clock it was sent with.
    room.remove(people[0] as TestPeer)
    room.receive(stock, announce(1000, 3, null))
    expect(stock.closedWith).toBeNull()
    expect(room.awareness.getStates().size).toBe(39)
    expect(room.awareness.getStates().get(1001)).toEqual({ user: { name: 'P1' } })
  })

  it('[R32] a spoofed newer state for a live user is dropped and reported, not applied or broadcast', async () => {
    const dropped: string[] = []
    const room = new Room(
      'doc',
      null,
      new Persister(new MemoryStore(), { retryDelayMs: 5, maxRetryDelayMs: 5 }),
      {
        onPresenceDropped: (_peer, kind, clientId) => dropped.push(`${kind}:${clientId}`),
      },
    )
    rooms.push(room)
    const alice = join(room, new TestPeer('a'))
    room.receive(alice, announce(7, 1, { user: { name: 'Alice' } }))
    const mallory = join(room, new TestPeer('m'))
    const seenBefore = alice.received.length
    room.receive(mallory, announce(7, 9, { user: { name: 'Mallory' } }))
    expect(dropped).toEqual(['foreign:7'])
    expect(alice.received.length).toBe(seenBefore)
    expect(room.awareness.getStates().get(7)).toEqual({ user: { name: 'Alice' } })
    await vi.waitFor(() => expect(alice.livenessChecks).toBe(1))
    expect(mallory.closedWith).toBeNull()
    expect(alice.closedWith).toBeNull()
  })
})

describe('a client back on a new connection (R36)', () => {
  it('[R36] the same writer key takes over presence and client ids at once; the stale connection is superseded', async () => {
    const room = newRoom()
    const doc = new Y.Doc()
    const stale = join(room, new TestPeer('old', 'key-a'))
    room.receive(stale, announce(doc.clientID, 4, { user: { name: 'Ada' } }))
    room.receive(stale, liveEdit(doc, 'before '))
    stale.answers = 'never'
    const bob = join(room, new TestPeer('bob'))
    const fresh = join(room, new TestPeer('new', 'key-a'))
    // The reconnecting client announces the clock it had: same writer, so it is the holder now.
    room.receive(fresh, announce(doc.clientID, 4, { user: { name: 'Ada' } }))
    expect(stale.closedWith).toBe(CLOSE_REASONS.superseded)
    expect(stale.livenessChecks).toBe(0)
    room.receive(fresh, liveEdit(doc, 'after'))
    expect(fresh.closedWith).toBeNull()
    expect(room.doc.getText('t').toString()).toBe('before after')
    // Bob never saw Ada leave.
    expect(bob.presenceSeen().get(doc.clientID)).toEqual({ user: { name: 'Ada' } })
    await vi.waitFor(() => expect(fresh.received.some((message) => message.type === 'saved')).toBe(true))
  })

  it('[R36] a stock client’s edit for an id its dead connection holds waits for the check, then applies', async () => {
    const room = newRoom()
    const doc = new Y.Doc()
    const stale = join(room, new TestPeer('old'))
    room.receive(stale, announce(doc.clientID, 2, { user: { name: 'Stock' } }))
    room.receive(stale, liveEdit(doc, 'one '))
    stale.answers = false
    const fresh = join(room, new TestPeer('new'))
    // y-websocket on reconnect: its state at the same clock, then what it typed while away.
    room.receive(fresh, announce(doc.clientID, 2, { user: { name: 'Stock' } }))
    room.receive(fresh, encodeMessage({ type: 'sync-step2', update: Y.encodeStateAsUpdate(doc) }))
    room.receive(fresh, liveEdit(doc, 'two'))
    await vi.waitFor(() => expect(room.doc.getText('t').toString()).toBe('one two'))
    expect(stale.closedWith).toBe(CLOSE_REASONS.unresponsive)
    expect(fresh.closedWith).toBeNull()
    // The stale holder's presence was removed; the client's own state comes back one clock higher.
    expect(room.awareness.getStates().has(doc.clientID)).toBe(false)
    room.receive(fresh, announce(doc.clientID, 2, { user: { name: 'Stock' } }))
    expect(room.awareness.getStates().get(doc.clientID)).toEqual({ user: { name: 'Stock' } })
    expect(room.awareness.meta.get(doc.clientID)?.clock).toBe(3)
  })

  it('[R36] a resync carrying a live user’s structs the server lacks applies without them', async () => {
    const room = newRoom()
    const alice = new Y.Doc()
    const alicePeer = join(room, new TestPeer('a'))
    room.receive(alicePeer, liveEdit(alice, 'alice'))
    liveEdit(alice, '!') // not sent yet: the server lacks it
    const bob = new Y.Doc()
    Y.applyUpdate(bob, Y.encodeStateAsUpdate(alice))
    bob.getText('t').insert(0, 'bob ')
    const bobPeer = join(room, new TestPeer('b'))
    room.receive(
      bobPeer,
      encodeMessage({
        type: 'sync-step2',
        update: Y.encodeStateAsUpdate(bob, Y.encodeStateVector(room.doc)),
      }),
    )
    await vi.waitFor(() => expect(alicePeer.livenessChecks).toBe(1))
    expect(bobPeer.closedWith).toBeNull()
    await vi.waitFor(() => expect(room.doc.getText('t').toString()).toBe('bob alice'))
    expect(room.doc.store.pendingStructs).toBeNull()
  })
})
