import {
  CLOSE_REASONS,
  decodeMessage,
  encodeAwarenessEntries,
  encodeMessage,
  type CloseReason,
} from '@tandem/shared'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { describe, expect, it, vi } from 'vitest'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { Persister } from '../src/core/Persister.ts'
import { Room } from '../src/core/Room.ts'
import type { Peer } from '../src/core/types.ts'
import { MemoryStore } from '../src/persistence/MemoryStore.ts'

class TestPeer implements Peer {
  readonly role = 'edit'
  readonly wantsAcks: boolean = false
  readonly viewerName = ''
  readonly resumeFrom = null
  readonly isProbe = false
  closedWith: CloseReason | null = null
  received = 0
  constructor(readonly id: string) {}
  send(frame: Uint8Array): void {
    decodeMessage(frame)
    this.received += 1
  }
  isAlive = true
  checkAlive(): Promise<boolean> {
    return Promise.resolve(this.isAlive)
  }
  close(reason: CloseReason): void {
    this.closedWith = reason
  }
}

/** A peer that sent a writer key (R33); the value stands for the key's digest. */
class KeyedPeer extends TestPeer {
  constructor(
    id: string,
    readonly writerKey: string | null,
  ) {
    super(id)
  }
}

/** A peer that asked for saved acks (R7); keeps the highest one. */
class AckingPeer extends TestPeer {
  override readonly wantsAcks = true
  savedSeq = 0
  override send(frame: Uint8Array): void {
    const message = decodeMessage(frame)
    if (message.type === 'saved') this.savedSeq = message.seq
    this.received += 1
  }
}

function room(): Room {
  return new Room('doc', null, new Persister(new MemoryStore(), { retryDelayMs: 5, maxRetryDelayMs: 5 }))
}

const update = (u: Uint8Array): Uint8Array => encodeMessage({ type: 'sync-update', update: u })
const awareness = (u: Uint8Array): Uint8Array => encodeMessage({ type: 'awareness', update: u })

function edit(doc: Y.Doc, change: (doc: Y.Doc) => void): Uint8Array {
  const before = Y.encodeStateVector(doc)
  change(doc)
  return Y.encodeStateAsUpdate(doc, before)
}

/** Joins a peer, sends one frame, and says how the room answered. */
function send(target: Room, frame: Uint8Array, peer = new TestPeer('p')): TestPeer {
  if (!target.peerCount || !peer.received) target.add(peer)
  target.receive(peer, frame)
  return peer
}

/** A v1 update holding one string item of `client` at clock 0 with the given origins. */
function forgedItem(client: number, origin: Y.ID, rightOrigin: Y.ID, text: string): Uint8Array {
  const encoder = new Y.UpdateEncoderV1()
  encoding.writeVarUint(encoder.restEncoder, 1) // one client
  encoding.writeVarUint(encoder.restEncoder, 1) // one struct
  encoder.writeClient(client)
  encoding.writeVarUint(encoder.restEncoder, 0) // first clock
  const item = new Y.Item(
    Y.createID(client, 0),
    null,
    origin,
    null,
    rightOrigin,
    null,
    null,
    new Y.ContentString(text),
  )
  item.write(encoder, 0)
  encoding.writeVarUint(encoder.restEncoder, 0) // empty delete set
  return encoder.toUint8Array()
}

function expectIntact(target: Room): void {
  expect(target.doc.store.pendingStructs).toBeNull()
  expect(target.doc.store.pendingDs).toBeNull()
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(target.doc))
  expect(Y.encodeStateAsUpdate(copy)).toEqual(Y.encodeStateAsUpdate(target.doc))
}

describe('update validation', () => {
  it('[R31] accepts ordinary edits of every shared type', () => {
    const target = room()
    const client = new Y.Doc()
    const peer = send(target, update(edit(client, (d) => d.getText('t').insert(0, 'hello'))))
    send(target, update(edit(client, (d) => d.getMap('m').set('k', new Y.Array()))), peer)
    send(
      target,
      update(edit(client, (d) => d.getXmlFragment('default').insert(0, [new Y.XmlElement('paragraph')]))),
      peer,
    )
    send(target, update(edit(client, (d) => d.getText('t').delete(0, 2))), peer)
    expect(peer.closedWith).toBeNull()
    expect(target.doc.getText('t').toString()).toBe('llo')
    expectIntact(target)
  })

  it('[R31][R7] an update that arrives before its dependencies waits, unacknowledged, until they come', async () => {
    const target = room()
    const client = new Y.Doc()
    const first = edit(client, (d) => d.getText('t').insert(0, 'first '))
    const second = edit(client, (d) => d.getText('t').insert(6, 'second'))
    const peer = new AckingPeer('p')
    target.add(peer)
    target.receive(peer, update(second))
    await target.whenSaved()
    expect(peer.closedWith).toBeNull()
    expect(peer.savedSeq).toBe(0)
    expect(target.doc.getText('t').toString()).toBe('')
    expectIntact(target)
    target.receive(peer, update(first))
    expect(target.doc.getText('t').toString()).toBe('first second')
    await target.whenSaved()
    await vi.waitFor(() => expect(peer.savedSeq).toBe(2))
    expectIntact(target)
  })

  it('[R31][R7] a waiting update filled by another peer is applied and acknowledged to its sender', async () => {
    const target = room()
    const author = new Y.Doc()
    const first = edit(author, (d) => d.getText('t').insert(0, 'first '))
    const reader = new Y.Doc()
    Y.applyUpdate(reader, first)
    const second = edit(reader, (d) => d.getText('t').insert(6, 'second'))
    const waiting = new AckingPeer('waiting')
    target.add(waiting)
    target.receive(waiting, update(second))
    expect(target.doc.getText('t').toString()).toBe('')
    send(target, update(first), new TestPeer('author'))
    expect(target.doc.getText('t').toString()).toBe('first second')
    await vi.waitFor(() => expect(waiting.savedSeq).toBe(1))
    expectIntact(target)
  })

  it('[R31] a waiting update is dropped when its sender leaves, and validated again when it can apply', () => {
    const author = new Y.Doc()
    author.clientID = 1
    const content = edit(author, (d) => d.getText('t').insert(0, 'abcdef'))
    // Origins that exist only once `content` is there, in the wrong order (right before left).
    const reversed = forgedItem(2, Y.createID(1, 5), Y.createID(1, 0), 'x')

    const leaving = room()
    const gone = new TestPeer('gone')
    leaving.add(gone)
    leaving.receive(gone, update(reversed))
    leaving.remove(gone)
    send(leaving, update(content), new TestPeer('author'))
    expect(leaving.doc.getText('t').toString()).toBe('abcdef')
    expectIntact(leaving)

    const staying = room()
    const sender = new TestPeer('sender')
    staying.add(sender)
    staying.receive(sender, update(reversed))
    expect(sender.closedWith).toBeNull()
    send(staying, update(content), new TestPeer('author'))
    expect(sender.closedWith).toBe(CLOSE_REASONS.invalidUpdate)
    expect(staying.doc.getText('t').toString()).toBe('abcdef')
    expectIntact(staying)
  })

  it('[R31] an item goes between two origins of one type, left before right', () => {
    const author = new Y.Doc()
    author.clientID = 1
    const content = edit(author, (d) => {
      d.getText('t').insert(0, 'ab')
      d.getText('u').insert(0, 'cd')
    })
    const cases: Array<[string, Y.ID, Y.ID, CloseReason | null]> = [
      ['same item', Y.createID(1, 0), Y.createID(1, 0), CLOSE_REASONS.invalidUpdate],
      ['right before left', Y.createID(1, 1), Y.createID(1, 0), CLOSE_REASONS.invalidUpdate],
      ['different types', Y.createID(1, 0), Y.createID(1, 3), CLOSE_REASONS.invalidUpdate],
      ['genuine gap', Y.createID(1, 0), Y.createID(1, 1), null],
    ]
    // A text inside a map entry that was then deleted: its items are collected (GC structs).
    const gone = edit(author, (d) => {
      const nested = new Y.Text()
      d.getMap('m').set('x', nested)
      nested.insert(0, 'gone')
    })
    const removal = edit(author, (d) => d.getMap('m').delete('x'))
    const collected = Y.createID(1, 5)
    cases.push(['one origin in a deleted type', collected, Y.createID(1, 1), CLOSE_REASONS.invalidUpdate])
    for (const [name, origin, rightOrigin, expected] of cases) {
      const target = room()
      send(target, update(Y.mergeUpdates([content, gone, removal])), new TestPeer('author'))
      const peer = send(target, update(forgedItem(2, origin, rightOrigin, 'x')))
      expect(peer.closedWith, name).toBe(expected)
      expect(target.doc.getText('t').toString(), name).toBe(expected ? 'ab' : 'axb')
      expectIntact(target)
    }
  })

  it('[R31][R12] a resync that inserts and erases its own text (typed offline) applies at once', async () => {
    const target = room()
    const offline = new Y.Doc()
    const before = Y.encodeStateVector(offline)
    offline.getText('t').insert(0, 'typed and erased, then kept')
    offline.getText('t').delete(0, 'typed and erased, '.length)
    const peer = new AckingPeer('p')
    target.add(peer)
    target.receive(
      peer,
      encodeMessage({ type: 'sync-step2', update: Y.encodeStateAsUpdate(offline, before) }),
    )
    expect(peer.closedWith).toBeNull()
    expect(target.doc.getText('t').toString()).toBe('then kept')
    await vi.waitFor(() => expect(peer.savedSeq).toBe(1))
    expectIntact(target)
  })

  it('[R31] caps what waits for dependencies that never come', () => {
    const target = room()
    const peer = new TestPeer('p')
    target.add(peer)
    const client = new Y.Doc()
    edit(client, (d) => d.getText('t').insert(0, 'never sent'))
    for (let i = 0; i < 200 && peer.closedWith === null; i++) {
      target.receive(peer, update(edit(client, (d) => d.getText('t').insert(0, 'x'.repeat(10_000)))))
    }
    expect(peer.closedWith).toBe(CLOSE_REASONS.invalidUpdate)
    expect(target.doc.store.pendingStructs?.update.byteLength ?? 0).toBeLessThanOrEqual(1024 * 1024)
    expect(target.doc.getText('t').toString()).toBe('')
  })

  it('[R31] caps how many updates wait, however small they are', () => {
    const target = room()
    const peer = new TestPeer('p')
    target.add(peer)
    const client = new Y.Doc()
    edit(client, (d) => d.getText('t').insert(0, 'never sent'))
    let sent = 0
    for (; sent < 5_000 && peer.closedWith === null; sent++) {
      target.receive(peer, update(edit(client, (d) => d.getText('t').insert(0, 'x'))))
    }
    // Each waiting update is tens of bytes: far under the byte budget, stopped by the count.
    expect(peer.closedWith).toBe(CLOSE_REASONS.invalidUpdate)
    expect(sent).toBe(1_001)
    // Its sender is gone, and its updates with it: a new peer's edit applies at once.
    const next = send(target, update(edit(new Y.Doc(), (d) => d.getText('t').insert(0, 'ok'))))
    expect(next.closedWith).toBeNull()
    expect(target.doc.getText('t').toString()).toBe('ok')
    expectIntact(target)
  })

  it('[R31] updates that arrive in reverse order wait and apply in order once the first comes', async () => {
    const target = room()
    const client = new Y.Doc()
    const parts = ['a', 'b', 'c', 'd', 'e'].map((letter) =>
      edit(client, (d) => d.getText('t').insert(d.getText('t').length, letter)),
    )
    const peer = new AckingPeer('p')
    target.add(peer)
    for (const part of parts.slice(1).reverse()) target.receive(peer, update(part))
    expect(target.doc.getText('t').toString()).toBe('')
    target.receive(peer, update(parts[0] as Uint8Array))
    expect(target.doc.getText('t').toString()).toBe('abcde')
    await vi.waitFor(() => expect(peer.savedSeq).toBe(5))
    expectIntact(target)
  })

  it('[R31] rejects Yjs v2 encoding sent as v1', () => {
    const target = room()
    const client = new Y.Doc()
    client.getText('t').insert(0, 'v2 content')
    const peer = send(target, update(Y.encodeStateAsUpdateV2(client)))
    expect(peer.closedWith).toBe(CLOSE_REASONS.invalidUpdate)
    expect(target.doc.getText('t').toString()).toBe('')
    expectIntact(target)
  })

  it('[R31] a struct whose clock + length reaches 2^32 is refused; just below is accepted', () => {
    /** A v1 update of one GC struct of `client`, from clock 0, `length` long. */
    const gc = (client: number, length: number): Uint8Array => {
      const encoder = new Y.UpdateEncoderV1()
      encoding.writeVarUint(encoder.restEncoder, 1) // one client
      encoding.writeVarUint(encoder.restEncoder, 1) // one struct
      encoder.writeClient(client)
      encoding.writeVarUint(encoder.restEncoder, 0) // first clock
      encoder.writeInfo(0) // GC
      encoder.writeLen(length)
      encoding.writeVarUint(encoder.restEncoder, 0) // empty delete set
      return encoder.toUint8Array()
    }
    // A burnt clock: the victim's next edit would land inside it and be dropped everywhere.
    expect(send(room(), update(gc(41, 2 ** 32))).closedWith).toBe(CLOSE_REASONS.invalidUpdate)
    expect(send(room(), update(gc(42, 2 ** 32 + 16))).closedWith).toBe(CLOSE_REASONS.invalidUpdate)
    const target = room()
    expect(send(target, update(gc(43, 2 ** 32 - 1))).closedWith).toBeNull()
    expect(Y.encodeStateVector(target.doc)).toEqual(Y.encodeStateVector(new Map([[43, 2 ** 32 - 1]])))
  })

  it('[R31] bounds the number of root types and the nesting depth', () => {
    const wide = new Y.Doc()
    const manyRoots = edit(wide, (d) => {
      for (let i = 0; i < 40; i++) d.getText(`root${i}`).insert(0, 'x')
    })
    expect(send(room(), update(manyRoots)).closedWith).toBe(CLOSE_REASONS.invalidUpdate)

    const deep = new Y.Doc()
    const nested = edit(deep, (d) => {
      let map: Y.Map<unknown> = d.getMap('m')
      for (let i = 0; i < 80; i++) {
        const child = new Y.Map<unknown>()
        map.set('c', child)
        map = child
      }
    })
    const target = room()
    expect(send(target, update(nested)).closedWith).toBe(CLOSE_REASONS.invalidUpdate)
    expectIntact(target)
  })

  it('[R33][R36] a peer cannot write as a client id another live connection writes as', async () => {
    const target = room()
    const alice = new Y.Doc()
    const alicePeer = send(
      target,
      update(edit(alice, (d) => d.getText('t').insert(0, 'alice'))),
      new TestPeer('a'),
    )
    // Mallory forges Alice's next clock: a struct with Alice's client id.
    const forged = new Y.Doc()
    Y.applyUpdate(forged, Y.encodeStateAsUpdate(alice))
    forged.clientID = alice.clientID
    const mallory = send(
      target,
      update(edit(forged, (d) => d.getText('t').insert(0, 'forged '))),
      new TestPeer('m'),
    )
    // Alice's connection is asked whether it is still there (R36); it is, so Mallory is refused.
    await vi.waitFor(() => expect(mallory.closedWith).toBe(CLOSE_REASONS.foreignClient))
    expect(alicePeer.closedWith).toBeNull()
    expect(target.doc.getText('t').toString()).toBe('alice')
    // Alice's own next edit still applies at the clock she expects.
    send(target, update(edit(alice, (d) => d.getText('t').insert(5, '!'))), alicePeer)
    expect(target.doc.getText('t').toString()).toBe('alice!')
  })

  it('[R33] a client id a keyed writer extended stays its own after it leaves; a resync holding it keeps the rest', () => {
    const target = room()
    const alice = new Y.Doc()
    const alicePeer = new KeyedPeer('a', 'digest-a')
    send(target, update(edit(alice, (d) => d.getText('t').insert(0, 'alice'))), alicePeer)
    target.remove(alicePeer)
    // Mallory, without a key or with another one, cannot continue Alice's clock while she is away.
    for (const key of [null, 'digest-m']) {
      const forged = new Y.Doc()
      Y.applyUpdate(forged, Y.encodeStateAsUpdate(alice))
      forged.clientID = alice.clientID
      const mallory = new KeyedPeer('m', key)
      send(target, update(edit(forged, (d) => d.getText('t').insert(0, 'forged '))), mallory)
      expect(mallory.closedWith).toBe(CLOSE_REASONS.foreignClient)
    }
    // Alice edits offline; Bob got that edit from her and resyncs it with his own (step 2): his
    // part is applied, hers is left for her to bring.
    edit(alice, (d) => d.getText('t').insert(5, '!'))
    const bob = new Y.Doc()
    Y.applyUpdate(bob, Y.encodeStateAsUpdate(alice))
    edit(bob, (d) => d.getText('t').insert(0, 'bob '))
    const bobPeer = new KeyedPeer('b', 'digest-b')
    target.add(bobPeer)
    const resync = Y.encodeStateAsUpdate(bob, Y.encodeStateVector(target.doc))
    target.receive(bobPeer, encodeMessage({ type: 'sync-step2', update: resync }))
    expect(bobPeer.closedWith).toBeNull()
    expect(target.doc.getText('t').toString()).toBe('bob alice')
    // Alice is back with her key: her edit applies.
    const back = new KeyedPeer('a2', 'digest-a')
    target.add(back)
    target.receive(back, update(Y.encodeStateAsUpdate(alice, Y.encodeStateVector(target.doc))))
    expect(back.closedWith).toBeNull()
    expect(target.doc.getText('t').toString()).toBe('bob alice!')
    expectIntact(target)
  })
})

/** A peer that decodes what it is sent into its own replica, as a client would. */
class ReplicaPeer extends TestPeer {
  readonly replica = new Y.Doc()
  override send(frame: Uint8Array): void {
    const message = decodeMessage(frame)
    if (message.type === 'sync-update' || message.type === 'sync-step2')
      Y.applyUpdate(this.replica, message.update)
    this.received += 1
  }
}

/** The room's document, what it persisted (reloaded) and what a peer received all agree. */
async function expectAgreement(
  target: Room,
  store: MemoryStore,
  persister: Persister,
  replica: Y.Doc,
): Promise<void> {
  await persister.flush()
  const stored = await store.load('doc')
  const reloaded = new Room(
    'doc',
    stored,
    new Persister(new MemoryStore(), { retryDelayMs: 1, maxRetryDelayMs: 1 }),
  )
  const text = (doc: Y.Doc): unknown => ({
    t: doc.getText('t').toDelta() as unknown,
    a: doc.getArray('a').toJSON(),
  })
  expect(text(reloaded.doc)).toEqual(text(target.doc))
  await vi.waitFor(() => expect(text(replica)).toEqual(text(target.doc)))
  reloaded.destroy()
}

describe('what an applied update changed', () => {
  function setup(): { target: Room; store: MemoryStore; persister: Persister; reader: ReplicaPeer } {
    const store = new MemoryStore()
    const persister = new Persister(store, { retryDelayMs: 1, maxRetryDelayMs: 1 })
    const target = new Room('doc', null, persister)
    const reader = new ReplicaPeer('reader')
    target.add(reader)
    return { target, store, persister, reader }
  }

  it('[R31][R5] Yjs’s own clean-up of formatting after an update is broadcast and persisted too', async () => {
    const { target, store, persister, reader } = setup()
    const client = new Y.Doc()
    client.clientID = 101
    const updates: Uint8Array[] = []
    client.on('update', (u: Uint8Array) => void updates.push(u))
    client.getText('t').insert(0, ' ', { bold: true })
    client.getText('t').insert(0, ' ')
    const [first, second] = updates as [Uint8Array, Uint8Array]
    // The first update again under client 0: it waits for client 101, then applies, and Yjs
    // removes the formatting marks it made redundant in a transaction of its own.
    const asClientZero = rewriteClient(first, 0)
    // Once the server has read the text as text (an export, GET /text), Yjs cleans formatting up
    // after each remote update.
    target.doc.getText('t')
    const writer = new TestPeer('writer')
    target.add(writer)
    for (const u of [asClientZero, first, second]) target.receive(writer, update(u))
    expect(writer.closedWith).toBeNull()
    await expectAgreement(target, store, persister, reader.replica)
  })

  it('[R31][R5] an update into collected content is persisted and sent as Yjs integrated it', async () => {
    const { target, store, persister, reader } = setup()
    const author = new Y.Doc()
    const other = new Y.Doc()
    const writer = new TestPeer('writer')
    target.add(writer)
    const created = edit(author, (d) => {
      const map = new Y.Map<unknown>()
      d.getArray('a').insert(0, ['kept', map])
      map.set('k', 'v')
    })
    target.receive(writer, update(created))
    Y.applyUpdate(other, created)
    // The author deletes the map (its content is collected); the other client, not knowing yet,
    // writes into it.
    target.receive(writer, update(edit(author, (d) => d.getArray('a').delete(1, 1))))
    const intoDeleted = edit(other, (d) => (d.getArray('a').get(1) as Y.Map<unknown>).set('k2', 'late'))
    const second = new TestPeer('second')
    target.add(second)
    target.receive(second, update(intoDeleted))
    expect(second.closedWith).toBeNull()
    expect(target.doc.getArray('a').toJSON()).toEqual(['kept'])
    await expectAgreement(target, store, persister, reader.replica)
    // Stored as the room integrated it (garbage), not as it came (an item in a deleted map).
    const stored = (await store.load('doc'))?.updates ?? []
    const late = Y.decodeUpdate(stored.at(-1) as Uint8Array).structs
    expect(late.map((struct) => struct.constructor)).toEqual([Y.GC])
  })
})

describe('awareness validation', () => {
  function announce(clientId: number, clock: number, state: unknown): Uint8Array {
    return awareness(encodeAwarenessEntries([{ clientId, clock, state }]))
  }

  it('[R32] a peer may not set or remove another peer’s presence, and is not closed for trying', () => {
    const target = room()
    const alice = send(target, announce(1, 1, { user: { name: 'Alice' } }), new TestPeer('a'))
    const mallory = send(target, announce(1, 2, { user: { name: 'Mallory' } }), new TestPeer('m'))
    const eve = send(target, announce(1, 5, null), new TestPeer('e'))
    const echo = send(target, announce(1, 1, null), new TestPeer('b'))
    for (const peer of [alice, mallory, eve, echo]) expect(peer.closedWith).toBeNull()
    expect(target.awareness.getStates().get(1)).toEqual({ user: { name: 'Alice' } })
  })

  it('[R32] rejects huge states, deep states and lock-out clocks', () => {
    expect(send(room(), announce(7, 1, { blob: 'x'.repeat(20_000) })).closedWith).toBe(
      CLOSE_REASONS.invalidAwareness,
    )
    let deep: unknown = 'leaf'
    for (let i = 0; i < 40; i++) deep = { d: deep }
    expect(send(room(), announce(7, 1, deep)).closedWith).toBe(CLOSE_REASONS.invalidAwareness)
    expect(send(room(), announce(7, 2 ** 50, { user: {} })).closedWith).toBe(CLOSE_REASONS.invalidAwareness)
  })

  it('[R32] an awareness flood is coalesced, not cut off: the latest state wins', async () => {
    const target = room()
    const clientDoc = new Y.Doc()
    const local = new awarenessProtocol.Awareness(clientDoc)
    const peer = new TestPeer('flood')
    target.add(peer)
    for (let i = 0; i < 1_000; i++) {
      local.setLocalState({ n: i })
      target.receive(peer, awareness(awarenessProtocol.encodeAwarenessUpdate(local, [clientDoc.clientID])))
    }
    expect(peer.closedWith).toBeNull()
    expect(target.awareness.getStates().get(clientDoc.clientID)).not.toEqual({ n: 999 })
    await vi.waitFor(() => expect(target.awareness.getStates().get(clientDoc.clientID)).toEqual({ n: 999 }))
    local.destroy()
    target.destroy()
  })
})

/** The update with the client id of its first struct group replaced (its origins keep theirs). */
function rewriteClient(u: Uint8Array, to: number): Uint8Array {
  const decoder = decoding.createDecoder(u)
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, decoding.readVarUint(decoder))
  encoding.writeVarUint(encoder, decoding.readVarUint(decoder))
  decoding.readVarUint(decoder)
  encoding.writeVarUint(encoder, to)
  encoding.writeUint8Array(encoder, u.subarray(decoder.pos))
  return encoding.toUint8Array(encoder)
}
