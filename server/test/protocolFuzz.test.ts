import {
  ProtocolError,
  decodeFrameBatch,
  decodeMessage,
  encodeFrameBatch,
  encodeMessage,
  type CloseReason,
  type Message,
} from '@tandem/shared'
import fc from 'fast-check'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Persister } from '../src/core/Persister.ts'
import { Room, WAITING_DETAIL } from '../src/core/Room.ts'
import type { Peer } from '../src/core/types.ts'
import { MemoryStore } from '../src/persistence/MemoryStore.ts'

/**
 * Property-based hostile input at the unit level: the wire decoder (R11) and the Room's handling of
 * Yjs updates, valid and corrupted (R11, R31). The seed is fixed (vitest.setup.ts), so a run
 * replays; FUZZ_SEED=random explores new inputs and prints its seed. A failure prints the seed and
 * the shrunk counterexample: FUZZ_SEED=<seed> FUZZ_PATH=<path> replays one of the Room properties;
 * FUZZ_RUNS=<n> runs them longer (a soak: 3 × 4,000 runs pass).
 */

// ---------------------------------------------------------------------------------------------
// Byte mutations, shared by both suites
// ---------------------------------------------------------------------------------------------

type ByteMutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'truncate'; readonly keep: number }
  | { readonly kind: 'append'; readonly bytes: Uint8Array }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }

const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.constantFrom(0x00, 0x7f, 0x80, 0xff),
  }),
)

function mutateBytes(input: Uint8Array, mutation: ByteMutation): Uint8Array {
  const bytes = input.slice()
  switch (mutation.kind) {
    case 'flip':
      if (bytes.length === 0) return bytes
      bytes[mutation.at % bytes.length] = (bytes[mutation.at % bytes.length] ?? 0) ^ (1 << mutation.bit)
      return bytes
    case 'truncate':
      return bytes.slice(0, mutation.keep % Math.max(1, bytes.length))
    case 'append': {
      const out = new Uint8Array(bytes.length + mutation.bytes.length)
      out.set(bytes)
      out.set(mutation.bytes, bytes.length)
      return out
    }
    case 'set':
      if (bytes.length > 0) bytes[mutation.at % bytes.length] = mutation.value
      return bytes
  }
}

// ---------------------------------------------------------------------------------------------
// R11: the wire decoder
// ---------------------------------------------------------------------------------------------

const payload = fc.uint8Array({ maxLength: 40 })

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('sync-step1' as const), stateVector: payload }),
  fc.record({ type: fc.constant('sync-step2' as const), update: payload }),
  fc.record({ type: fc.constant('sync-update' as const), update: payload }),
  fc.record({ type: fc.constant('awareness' as const), update: payload }),
  fc.record({ type: fc.constant('query-awareness' as const) }),
  fc.record({
    type: fc.constant('auth-denied' as const),
    reason: fc.string({ unit: 'grapheme', maxLength: 12 }),
  }),
  fc.record({ type: fc.constant('saved' as const), seq: fc.maxSafeNat() }),
  fc.record({
    type: fc.constant('persistence' as const),
    state: fc.constantFrom('ok' as const, 'failing' as const),
  }),
)

/** Inputs for the decoder: noise, noise behind a real type byte, valid frames and damaged ones. */
const frameInput: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 48 }),
  fc
    .tuple(fc.constantFrom(0, 1, 2, 3, 100, 101), fc.uint8Array({ maxLength: 24 }))
    .map(([type, rest]) => Uint8Array.of(type, ...rest)),
  message.map(encodeMessage),
  fc
    .tuple(message, fc.array(byteMutation, { minLength: 1, maxLength: 3 }))
    .map(([m, mutations]) => mutations.reduce(mutateBytes, encodeMessage(m))),
)

/** Runs `decode`; returns its value, or undefined if it threw a ProtocolError (anything else fails). */
function decodeOrRefuse<T>(decode: () => T): T | undefined {
  try {
    return decode()
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError)
    return undefined
  }
}

describe('wire decoder under hostile bytes', () => {
  it('[R11] decodeMessage never throws anything but ProtocolError and round-trips what it accepts', () => {
    fc.assert(
      fc.property(frameInput, (bytes) => {
        const decoded = decodeOrRefuse(() => decodeMessage(bytes))
        if (decoded === undefined) return
        const encoded = encodeMessage(decoded)
        expect(decodeMessage(encoded)).toEqual(decoded)
        // One message, one encoding: an accepted frame is exactly what the encoder would write.
        expect(encoded).toEqual(bytes)
      }),
      { numRuns: 20_000 },
    )
  })

  it('[R11] decodeFrameBatch never throws anything but ProtocolError; what it accepts re-encodes to the same frames', () => {
    const batchInput = fc.oneof(
      fc.uint8Array({ maxLength: 48 }),
      fc
        .tuple(fc.array(frameInput, { maxLength: 4 }), fc.array(byteMutation, { maxLength: 2 }))
        .map(([frames, mutations]) => mutations.reduce(mutateBytes, encodeFrameBatch(frames))),
    )
    fc.assert(
      fc.property(batchInput, (bytes) => {
        const frames = decodeOrRefuse(() => decodeFrameBatch(bytes))
        if (frames === undefined) return
        expect(decodeFrameBatch(encodeFrameBatch(frames))).toEqual(frames)
      }),
      { numRuns: 10_000 },
    )
  })
})

// ---------------------------------------------------------------------------------------------
// R31: what the Room accepts keeps the document whole
// ---------------------------------------------------------------------------------------------

/** Fixed client ids, so a failing seed replays exactly. */
const CLIENT_IDS = [101, 202, 303] as const
const XML_FRAGMENT = 'default'

type Leaf = number | string | boolean | null
const leaf: fc.Arbitrary<Leaf> = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 4 }),
  fc.boolean(),
  fc.constant(null),
)
const word = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 })
const key = fc.constantFrom('a', 'b', 'c')

/** One client edit; positions are taken modulo the current length, so every op applies. */
type Op =
  | { readonly kind: 'text-insert'; readonly at: number; readonly content: string; readonly isBold: boolean }
  | { readonly kind: 'text-delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'text-format'; readonly at: number; readonly length: number }
  | { readonly kind: 'map-set'; readonly key: string; readonly value: Leaf }
  | { readonly kind: 'map-set-type'; readonly key: string; readonly type: 'map' | 'array' | 'text' }
  | { readonly kind: 'map-delete'; readonly key: string }
  | { readonly kind: 'nested-edit'; readonly key: string; readonly content: string }
  | { readonly kind: 'array-insert'; readonly at: number; readonly values: Leaf[]; readonly hasMap: boolean }
  | { readonly kind: 'array-delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'xml-insert'; readonly at: number; readonly name: string; readonly content: string }
  | { readonly kind: 'xml-edit'; readonly at: number; readonly content: string; readonly attr: string }
  | { readonly kind: 'xml-delete'; readonly at: number; readonly length: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('text-insert' as const), at: fc.nat(), content: word, isBold: fc.boolean() }),
  fc.record({
    kind: fc.constant('text-delete' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({
    kind: fc.constant('text-format' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({ kind: fc.constant('map-set' as const), key, value: leaf }),
  fc.record({
    kind: fc.constant('map-set-type' as const),
    key,
    type: fc.constantFrom('map', 'array', 'text'),
  }),
  fc.record({ kind: fc.constant('map-delete' as const), key }),
  fc.record({ kind: fc.constant('nested-edit' as const), key, content: word }),
  fc.record({
    kind: fc.constant('array-insert' as const),
    at: fc.nat(),
    values: fc.array(leaf, { maxLength: 3 }),
    hasMap: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('array-delete' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({
    kind: fc.constant('xml-insert' as const),
    at: fc.nat(),
    name: fc.constantFrom('paragraph', 'heading', 'bulletList'),
    content: word,
  }),
  fc.record({ kind: fc.constant('xml-edit' as const), at: fc.nat(), content: word, attr: word }),
  fc.record({
    kind: fc.constant('xml-delete' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 2 }),
  }),
)

function applyOp(doc: Y.Doc, o: Op): void {
  const text = doc.getText('t')
  const map = doc.getMap<unknown>('m')
  const array = doc.getArray<unknown>('a')
  const xml = doc.getXmlFragment(XML_FRAGMENT)
  const within = (at: number, length: number): number => at % (length + 1)
  switch (o.kind) {
    case 'text-insert':
      text.insert(within(o.at, text.length), o.content, o.isBold ? { bold: true } : {})
      return
    case 'text-delete':
      if (text.length > 0)
        text.delete(o.at % text.length, Math.min(o.length, text.length - (o.at % text.length)))
      return
    case 'text-format':
      if (text.length > 0) text.format(o.at % text.length, o.length, { italic: true })
      return
    case 'map-set':
      map.set(o.key, o.value)
      return
    case 'map-set-type':
      map.set(o.key, o.type === 'map' ? new Y.Map() : o.type === 'array' ? new Y.Array() : new Y.Text())
      return
    case 'map-delete':
      map.delete(o.key)
      return
    case 'nested-edit': {
      const nested = map.get(o.key)
      if (nested instanceof Y.Text) nested.insert(nested.length, o.content)
      else if (nested instanceof Y.Array) nested.push([o.content])
      else if (nested instanceof Y.Map) nested.set(o.content, o.content)
      return
    }
    case 'array-insert': {
      const values: unknown[] = [...o.values]
      if (o.hasMap) values.push(new Y.Map([['k', o.values[0] ?? null]]))
      array.insert(within(o.at, array.length), values)
      return
    }
    case 'array-delete':
      if (array.length > 0) {
        const at = o.at % array.length
        array.delete(at, Math.min(o.length, array.length - at))
      }
      return
    case 'xml-insert': {
      const element = new Y.XmlElement(o.name)
      element.insert(0, [new Y.XmlText(o.content)])
      xml.insert(within(o.at, xml.length), [element])
      return
    }
    case 'xml-edit': {
      if (xml.length === 0) return
      const element = xml.get(o.at % xml.length)
      if (!(element instanceof Y.XmlElement)) return
      element.setAttribute('data-x', o.attr)
      const first = element.get(0)
      if (first instanceof Y.XmlText) first.insert(first.length, o.content, { bold: true })
      return
    }
    case 'xml-delete':
      if (xml.length > 0) {
        const at = o.at % xml.length
        xml.delete(at, Math.min(o.length, xml.length - at))
      }
      return
  }
}

/** Damage to a Yjs update: raw byte damage, or a rewritten first struct header. */
type UpdateMutation =
  | ByteMutation
  | { readonly kind: 'client'; readonly to: number }
  | { readonly kind: 'clock'; readonly to: number }

const updateMutation: fc.Arbitrary<UpdateMutation> = fc.oneof(
  byteMutation,
  fc.record({
    kind: fc.constant('client' as const),
    to: fc.oneof(fc.constantFrom(...CLIENT_IDS), fc.nat({ max: 0xffffffff })),
  }),
  fc.record({
    kind: fc.constant('clock' as const),
    to: fc.oneof(fc.constantFrom(1, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER), fc.nat()),
  }),
)

/**
 * Rewrites the client id or the start clock of the first struct group of a Yjs v1 update
 * (varUint #groups, then per group: varUint #structs, varUint client, varUint clock, structs…).
 */
function rewriteFirstGroup(update: Uint8Array, field: 'client' | 'clock', to: number): Uint8Array {
  try {
    const decoder = decoding.createDecoder(update)
    const groups = decoding.readVarUint(decoder)
    if (groups === 0) return update
    const structs = decoding.readVarUint(decoder)
    const client = decoding.readVarUint(decoder)
    const clock = decoding.readVarUint(decoder)
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, groups)
    encoding.writeVarUint(encoder, structs)
    encoding.writeVarUint(encoder, field === 'client' ? to : client)
    encoding.writeVarUint(encoder, field === 'clock' ? to : clock)
    encoding.writeUint8Array(encoder, update.subarray(decoder.pos))
    return encoding.toUint8Array(encoder)
  } catch {
    return update
  }
}

function mutateUpdate(update: Uint8Array, mutation: UpdateMutation): Uint8Array {
  switch (mutation.kind) {
    case 'client':
    case 'clock':
      return rewriteFirstGroup(update, mutation.kind, mutation.to)
    case 'flip':
    case 'truncate':
    case 'append':
    case 'set':
      return mutateBytes(update, mutation)
  }
}

/** One step: a client (maybe after catching up) edits; the Room first gets damaged copies. */
interface Step {
  readonly client: number
  readonly isCatchingUp: boolean
  readonly op: Op
  readonly damage: readonly UpdateMutation[]
}

/** Edits by three clients; each step's update may first arrive damaged, up to `maxDamage` times. */
function scenario(minDamage: number, maxDamage: number): fc.Arbitrary<Step[]> {
  const step: fc.Arbitrary<Step> = fc.record({
    client: fc.integer({ min: 0, max: CLIENT_IDS.length - 1 }),
    isCatchingUp: fc.boolean(),
    op,
    damage: fc.array(updateMutation, { minLength: minDamage, maxLength: maxDamage }),
  })
  return fc.array(step, { minLength: 1, maxLength: 20 })
}

class RecordingPeer implements Peer {
  static #next = 0
  readonly id = `p${RecordingPeer.#next++}`
  readonly role = 'edit' as const
  readonly wantsAcks = false
  readonly viewerName = ''
  readonly resumeFrom = null
  readonly isProbe = false
  closedWith: CloseReason | null = null
  send(): void {}
  /** A test client is always there, unless a test says otherwise (R36). */
  isAlive = true
  checkAlive(): Promise<boolean> {
    return Promise.resolve(this.isAlive)
  }
  close(reason: CloseReason): void {
    this.closedWith = reason
  }
}

/** A root type as the document holds it: generic until someone asks for a Text, Map, … */
type RootType = ReturnType<Y.Doc['get']>

/**
 * Everything visible in a document: typed views of the roots the generator writes, and list/map
 * views of any other root a damaged update conjured up.
 */
function contentOf(doc: Y.Doc): Record<string, unknown> {
  const content: Record<string, unknown> = {
    // An embedded type in the text (a damaged update may put one there) is compared by its content.
    t: (doc.getText('t').toDelta() as Array<{ insert: unknown }>).map((op) => ({
      ...op,
      insert: op.insert instanceof Y.AbstractType ? { embedded: genericView(op.insert) } : op.insert,
    })),
    m: doc.getMap('m').toJSON(),
    a: doc.getArray('a').toJSON(),
    [XML_FRAGMENT]: xmlView(doc.getXmlFragment(XML_FRAGMENT)),
  }
  for (const [name, type] of doc.share) {
    if (name in content) continue
    // A root that holds nothing visible is not content: Yjs creates it in `share` for any update
    // naming it, even when its items end up deleted (a fresh copy then has no such root).
    const view = genericView(type)
    if (view.list.length > 0 || Object.keys(view.map).length > 0) content[name] = view
  }
  return content
}

/**
 * The XML as text, or, if an item that is not XML landed in it (a peer may write as a client id
 * nobody is connected as, and a later genuine edit then lands beside that forged content), its
 * generic content: Yjs's XML serialiser cannot print such a child, but the document is whole.
 */
function xmlView(fragment: Y.XmlFragment): unknown {
  try {
    return fragment.toJSON()
  } catch {
    return genericView(fragment)
  }
}

/** The list and map content of a root nobody has typed yet (Yjs keeps it as a bare AbstractType). */
function genericView(type: RootType): { list: unknown[]; map: Record<string, unknown> } {
  const json = (value: unknown): unknown => (value instanceof Y.AbstractType ? genericView(value) : value)
  const list: unknown[] = []
  for (let item = type._start; item !== null; item = item.right) {
    if (!item.deleted && item.countable) list.push(...item.content.getContent().map(json))
  }
  const map: Record<string, unknown> = {}
  for (const [key, item] of type._map) {
    if (!item.deleted) map[key] = json(item.content.getContent().at(-1))
  }
  return { list, map }
}

/** What a fresh document holds after applying the room's full state. */
function copyOf(doc: Y.Doc): Y.Doc {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  return copy
}

/** The room's document equals a fresh load of its own encoding; Yjs holds nothing pending (R31). */
function expectRoundTrip(room: Room): void {
  expect(room.doc.store.pendingStructs, 'pending structs').toBeNull()
  expect(room.doc.store.pendingDs, 'pending deletions').toBeNull()
  const copy = copyOf(room.doc)
  expect(contentOf(copy)).toEqual(contentOf(room.doc))
  expect(Y.decodeStateVector(Y.encodeStateVector(copy))).toEqual(
    Y.decodeStateVector(Y.encodeStateVector(room.doc)),
  )
}

interface Fed {
  readonly room: Room
  readonly update: Uint8Array
  readonly isDamaged: boolean
  readonly isRejected: boolean
  /** The room's content and state vector just before this input. */
  readonly before: { readonly content: Record<string, unknown>; readonly stateVector: Uint8Array }
  /** Yjs threw halfway through the update: the room gave itself up, to be reloaded from storage. */
  readonly isBroken: boolean
}

/**
 * Plays a scenario against a Room over a MemoryStore, calling `check` after every input. Valid
 * updates are always fed too (after their damaged copies), so the room never lacks a dependency
 * of a genuine update. Returns the room's store for checks after the scenario.
 */
async function play(
  steps: readonly Step[],
  check: (fed: Fed) => void,
): Promise<{ store: MemoryStore; room: Room }> {
  const store = new MemoryStore()
  const persister = new Persister(store, { retryDelayMs: 1, maxRetryDelayMs: 5 })
  let isBroken = false
  let rejectedDetail = ''
  const room = new Room('doc', null, persister, {
    onBroken: () => (isBroken = true),
    onReject: (_peer, _reason, detail) => (rejectedDetail = detail ?? ''),
  })
  const clients = CLIENT_IDS.map((clientId) => {
    const doc = new Y.Doc()
    doc.clientID = clientId
    return doc
  })
  const genuine: Uint8Array[] = []
  let peer = new RecordingPeer()
  room.add(peer)
  const feed = (update: Uint8Array, isDamaged: boolean): void => {
    const before = { content: contentOf(room.doc), stateVector: Y.encodeStateVector(room.doc) }
    expect(() => room.receive(peer, encodeMessage({ type: 'sync-update', update }))).not.toThrow()
    // The room may refuse an earlier update that waited, once what it references came (R31):
    // then this update was accepted, and the peer is closed for the earlier one.
    const isClosed = peer.closedWith !== null
    const isRejected = isClosed && !rejectedDetail.startsWith(WAITING_DETAIL)
    check({ room, update, isDamaged, isRejected, before, isBroken })
    rejectedDetail = ''
    if (isClosed) {
      peer = new RecordingPeer()
      room.add(peer)
    }
  }
  try {
    for (const s of steps) {
      // A given-up room is unloaded and reloaded by its registry; this harness stops there.
      if (isBroken) break
      const client = clients[s.client] as Y.Doc
      if (s.isCatchingUp && genuine.length > 0) Y.applyUpdate(client, Y.mergeUpdates(genuine))
      const updates: Uint8Array[] = []
      const onUpdate = (update: Uint8Array): void => void updates.push(update)
      client.on('update', onUpdate)
      client.transact(() => applyOp(client, s.op))
      client.off('update', onUpdate)
      for (const update of updates) {
        genuine.push(update)
        for (const damage of s.damage) if (!isBroken) feed(mutateUpdate(update, damage), true)
        if (!isBroken) feed(update, false)
      }
    }
    await persister.flush()
    return { store, room }
  } finally {
    persister.close()
    for (const client of clients) client.destroy()
  }
}

describe('Room under valid and damaged Yjs updates', () => {
  // Shrinking a failure takes longer than a passing run: room for it, or a timeout hides the counterexample.
  // Quarantined while issue 5 is open: fast-check still finds damaged updates (client ids rewritten
  // to another client's, bit flips inside item headers) after which the room's memory and its own
  // encoding differ. Seeds from the closing note of issue 5 reproduce them; un-skip with the fix.
  it('[R31] after every update Room accepts, the document round-trips', { timeout: 90_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(scenario(0, 2), async (steps) => {
        const { store, room } = await play(steps, ({ room, isRejected, isBroken }) => {
          if (!isRejected && !isBroken) expectRoundTrip(room)
        })
        // What was persisted loads again, into the same document (R5, R10).
        const stored = await store.load('doc')
        const reloaded = new Room(
          'doc',
          stored,
          new Persister(new MemoryStore(), { retryDelayMs: 1, maxRetryDelayMs: 1 }),
        )
        if (!room.isBroken) expect(contentOf(reloaded.doc)).toEqual(contentOf(room.doc))
        reloaded.destroy()
        room.destroy()
      }),
      {
        numRuns: Number(process.env.FUZZ_RUNS ?? 400),
        path: process.env.FUZZ_PATH,
      },
    )
  })

  it('[R11] an update Room rejects leaves the document unchanged', { timeout: 90_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(scenario(1, 3), async (steps) => {
        let contentBeforeBreak: Record<string, unknown> | null = null
        const { room, store } = await play(steps, ({ room, isRejected, isBroken, before }) => {
          if (!isRejected) return
          if (isBroken) {
            // Its memory is given up; what matters is that nothing of it was kept (below).
            contentBeforeBreak = before.content
            return
          }
          expect(Y.decodeStateVector(Y.encodeStateVector(room.doc))).toEqual(
            Y.decodeStateVector(before.stateVector),
          )
          expect(contentOf(room.doc)).toEqual(before.content)
        })
        if (contentBeforeBreak !== null) {
          // The reload from storage holds exactly the content from before the breaking update.
          const reloaded = new Room(
            'doc',
            await store.load('doc'),
            new Persister(new MemoryStore(), { retryDelayMs: 1, maxRetryDelayMs: 1 }),
          )
          expect(contentOf(reloaded.doc)).toEqual(contentBeforeBreak)
          reloaded.destroy()
        }
        room.destroy()
      }),
      { numRuns: 400 },
    )
  })
})
