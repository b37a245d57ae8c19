import { CLOSE_REASONS, type CloseReason } from '@tandem/shared'
import * as Y from 'yjs'
import { decodeForInspection, type DecodedUpdate } from './structDecoder.ts'

export interface UpdateLimits {
  /** Structs (items, GCs) in one update. */
  readonly maxStructs: number
  /** Distinct root types (`doc.get(name)`) a document may have. */
  readonly maxRootTypes: number
  /** Nesting of shared types inside shared types. */
  readonly maxDepth: number
  /**
   * Largest end (clock + length) a client's structs may reach: below 2^32, which no real editing
   * session comes near (four billion characters from one client id), so one forged struct cannot
   * push a client's clock out of reach of its own next edit (R31).
   */
  readonly maxClock: number
  /** Length of a root type name or map key. */
  readonly maxKeyLength: number
}

export const DEFAULT_UPDATE_LIMITS: UpdateLimits = {
  maxStructs: 200_000,
  maxRootTypes: 32,
  maxDepth: 64,
  maxClock: 2 ** 32 - 1,
  maxKeyLength: 1024,
}

export type UpdateVerdict =
  | {
      readonly ok: true
      readonly writtenClients: readonly number[]
      /** The update repeats content the document has: validate `Y.diffUpdate(update, sv)` instead. */
      readonly needsTrim: boolean
      /**
       * Empty, or the update references content that has not arrived (it waits, bounded by the
       * room): per client id, the clock the document must reach before the verdict can
       * change. Each is necessary (not sufficient: what arrives may reference more), so a waiting
       * update is validated again only once all of them are met (R31).
       */
      readonly waitsFor: ReadonlyMap<number, number>
      /**
       * Yjs integrates it as it is. False when it references collected content (a struct of a
       * deleted type): Yjs turns what it adds there into garbage, which only the document's own
       * encoding of the change says; the update's bytes would load differently from storage.
       */
      readonly isFaithful: boolean
    }
  | { readonly ok: false; readonly reason: CloseReason; readonly detail: string }

const NOTHING: ReadonlyMap<number, number> = new Map()

/** `encodeStateAsUpdate` of an empty document: no structs, empty delete set. */
const EMPTY_UPDATE_BYTES = 2

/** An update holding nothing (a new client's answer to step 1): no need to look at the document. */
export function isEmptyUpdate(update: Uint8Array): boolean {
  return update.byteLength === EMPTY_UPDATE_BYTES && update[0] === 0 && update[1] === 0
}

/**
 * Decides, before anything is applied, persisted or broadcast, whether `update` keeps the document
 * encodable, loadable and syncable (SPEC R31): it decodes, every struct it adds continues its
 * client's clock without a gap, everything it references exists (in the document or the update),
 * deletions only touch known ranges, and root types, nesting, keys and clocks stay bounded. Such an
 * update never leaves pending structs, so nothing unsatisfiable accumulates.
 * `writtenClients` are the client ids the update adds structs for (ownership is checked by the room).
 */
export function validateUpdate(doc: Y.Doc, update: Uint8Array, limits: UpdateLimits): UpdateVerdict {
  let decoded: DecodedUpdate
  try {
    decoded = decodeForInspection(update)
  } catch (error) {
    return reject(`undecodable update: ${error instanceof Error ? error.message : String(error)}`)
  }
  const { structs, ds } = decoded
  if (structs.length > limits.maxStructs) return reject(`more than ${limits.maxStructs} structs`)
  // An empty v1 update is 2 bytes; more bytes that decode to nothing are another encoding (v2).
  if (structs.length === 0 && ds.clients.size === 0 && update.length > EMPTY_UPDATE_BYTES) {
    return reject('bytes that decode to nothing: not a Yjs v1 update')
  }

  const state = (client: number): number => Y.getState(doc.store, client)
  /** Per client: [first clock, end clock) the update covers. */
  const ranges = new Map<number, { first: number; end: number }>()
  const newRoots = new Set<string>()
  for (const struct of structs) {
    if (struct instanceof Y.Skip) return reject('update has gaps (skip structs)')
    const { client, clock } = struct.id
    const end = clock + struct.length
    if (!Number.isSafeInteger(client) || client < 0 || client > 0xffffffff) return reject('invalid client id')
    if (struct.length < 1 || !Number.isSafeInteger(end) || end > limits.maxClock)
      return reject('clock out of range')
    const range = ranges.get(client)
    if (!range) ranges.set(client, { first: clock, end })
    else if (clock !== range.end) return reject('structs of one client are not contiguous')
    else range.end = end
    const parent = struct instanceof Y.Item ? (struct.parent as unknown) : null
    if (typeof parent === 'string') {
      if (parent.length > limits.maxKeyLength) return reject('root type name too long')
      if (!doc.share.has(parent)) newRoots.add(parent)
      // Checked in the first pass, at the first name over the limit: thousands of names must cost
      // no more than reading them (R31).
      if (doc.share.size + newRoots.size > limits.maxRootTypes)
        return reject(`more than ${limits.maxRootTypes} root types`)
    }
  }
  const writtenClients: number[] = []
  let hasKnownStructs = false
  for (const [client, { first, end }] of ranges) {
    if (end > state(client)) writtenClients.push(client)
    if (first < state(client)) hasKnownStructs = true
  }
  // Parts the document already has are trimmed off by the caller first (Y.diffUpdate), so a
  // struct is never integrated from its middle onto whatever the document holds there.
  if (hasKnownStructs)
    return { ok: true, writtenClients, needsTrim: true, waitsFor: NOTHING, isFaithful: false }
  /** Whether an id exists in the document or in this update. */
  const exists = (id: Y.ID): boolean => {
    if (id.clock < state(id.client)) return true
    const range = ranges.get(id.client)
    return range !== undefined && id.clock >= range.first && id.clock < range.end
  }
  /**
   * A reference to content neither here nor in the document is allowed only where it can still
   * arrive: at or beyond that client's known clock. Such an update waits in Yjs's pending set,
   * which the room bounds (R31). A reference below the known clock that does not exist is forged.
   */
  const waitsFor = new Map<number, number>()
  const waitFor = (client: number, clock: number): void => {
    waitsFor.set(client, Math.max(waitsFor.get(client) ?? 0, clock))
  }
  const canArrive = (id: Y.ID): boolean => {
    const isPossible = !exists(id) && id.clock >= state(id.client)
    if (isPossible) waitFor(id.client, id.clock + 1)
    return isPossible
  }

  let isFaithful = true
  /** Whether a reference resolves to collected content in the document. */
  const isCollected = (id: Y.ID, orDeletedContent: boolean): boolean => {
    if (id.clock >= state(id.client)) return false
    const struct = Y.getItem(doc.store, id) as Y.Item | Y.GC
    return !(struct instanceof Y.Item) || (orDeletedContent && struct.content instanceof Y.ContentDeleted)
  }

  const newItems = new Map<string, Y.Item>()
  for (const struct of structs) if (struct instanceof Y.Item) newItems.set(key(struct.id), struct)
  const depths = new Map<string, number>()

  for (const struct of structs) {
    if (!(struct instanceof Y.Item)) continue
    // Yjs resolves the references of every struct, known ones too: all must exist (R31).
    const own = (id: Y.ID): boolean =>
      id.client === struct.id.client &&
      id.clock >= struct.id.clock &&
      id.clock < struct.id.clock + struct.length
    const isValidRef = (id: Y.ID): boolean => !own(id) && (exists(id) || canArrive(id))
    if (struct.origin && !isValidRef(struct.origin)) return reject('invalid left origin')
    if (struct.rightOrigin && !isValidRef(struct.rightOrigin)) return reject('invalid right origin')
    if (isFaithful && struct.origin && isCollected(struct.origin, false)) isFaithful = false
    if (isFaithful && struct.rightOrigin && isCollected(struct.rightOrigin, false)) isFaithful = false
    if (struct.origin && struct.rightOrigin) {
      const misplaced = misplacedOrigins(doc, struct.origin, struct.rightOrigin, state)
      if (misplaced !== null) return reject(misplaced)
    }
    if (struct.parentSub !== null && struct.parentSub.length > limits.maxKeyLength)
      return reject('key too long')
    const parent = struct.parent as unknown
    // A root type's name and count were checked in the first pass.
    if (parent instanceof Y.ID) {
      if (own(parent) || (exists(parent) ? !holdsType(doc, parent, newItems, state) : !canArrive(parent))) {
        return reject('parent is not a shared type')
      }
      if (isFaithful && isCollected(parent, true)) isFaithful = false
    } else if (parent === null && !struct.origin && !struct.rightOrigin) {
      return reject('item without parent or origin')
    }
    if (struct.content instanceof Y.ContentType) {
      const depth = depthOf(doc, struct, newItems, depths, state) + 1
      if (depth > limits.maxDepth) return reject(`nesting deeper than ${limits.maxDepth}`)
      depths.set(key(struct.id), depth)
    }
  }

  for (const deletions of ds.clients.values()) {
    for (const { clock, len } of deletions) {
      // Deleting what has not arrived yet waits in Yjs's pending delete set, bounded by the room.
      if (len < 0 || !Number.isSafeInteger(clock + len) || clock + len > limits.maxClock) {
        return reject('deletion out of range')
      }
    }
  }
  for (const [client, { first }] of ranges) if (first > state(client)) waitFor(client, first)
  // Deleting what the document or this very update holds needs nothing more (an update may
  // delete its own structs: typing then erasing offline); deleting beyond that waits.
  const coveredEnd = (client: number): number => Math.max(state(client), ranges.get(client)?.end ?? 0)
  for (const [client, deletions] of ds.clients) {
    for (const { clock, len } of deletions) if (clock + len > coveredEnd(client)) waitFor(client, clock + len)
  }
  return { ok: true, writtenClients, needsTrim: false, waitsFor, isFaithful }
}

/** Items walked from a left origin looking for the right origin; real ones are a few apart. */
const MAX_ORIGIN_DISTANCE = 10_000

/**
 * Yjs inserts an item between its origins, and every replica must find the same gap: the right
 * origin must lie to the right of the left origin in one list. Yjs does not check this; an item
 * whose origins are one item, in different types or in the wrong order is integrated differently
 * by the server's memory and by a fresh load of its own encoding. Checked when both are in the
 * document; origins inside the update were checked as their own items. Returns what is wrong, or null.
 */
function misplacedOrigins(
  doc: Y.Doc,
  origin: Y.ID,
  rightOrigin: Y.ID,
  state: (client: number) => number,
): string | null {
  if (origin.client === rightOrigin.client && origin.clock === rightOrigin.clock) {
    return 'left and right origin are the same'
  }
  if (origin.clock >= state(origin.client) || rightOrigin.clock >= state(rightOrigin.client)) return null
  const left = Y.getItem(doc.store, origin) as Y.Item | Y.GC
  const right = Y.getItem(doc.store, rightOrigin) as Y.Item | Y.GC
  // Both collected (their type was deleted): Yjs integrates the item as garbage too. One collected
  // and one live are two types, one of them deleted: Yjs would split the live neighbour (a
  // surrogate pair becomes two U+FFFD) and store only garbage, so the split is lost on reload.
  const isLeftLive = left instanceof Y.Item
  const isRightLive = right instanceof Y.Item
  if (!isLeftLive && !isRightLive) return null
  if (!isLeftLive || !isRightLive) return 'one origin is in a deleted type, the other is not'
  if (left === right) return rightOrigin.clock > origin.clock ? null : 'right origin precedes left origin'
  if (left.parent !== right.parent || left.parentSub !== right.parentSub) {
    return 'left and right origin are in different types'
  }
  let item = left.right
  for (let steps = 0; item !== null && item !== right && steps < MAX_ORIGIN_DISTANCE; steps++)
    item = item.right
  return item === right ? null : 'right origin is not to the right of the left origin'
}

/**
 * Whether the struct with this id holds a shared type, or held content that was deleted and
 * collected (a type deleted concurrently): Yjs integrates children of those as garbage.
 */
function holdsType(
  doc: Y.Doc,
  id: Y.ID,
  newItems: ReadonlyMap<string, Y.Item>,
  state: (client: number) => number,
): boolean {
  const inUpdate = newItems.get(key(id))
  if (inUpdate) return inUpdate.content instanceof Y.ContentType
  if (id.clock >= state(id.client)) return false
  const struct = Y.getItem(doc.store, id) as Y.Item | Y.GC
  if (!(struct instanceof Y.Item) || struct.content instanceof Y.ContentDeleted) return true
  return struct.content instanceof Y.ContentType && struct.id.clock === id.clock
}

function reject(detail: string): UpdateVerdict {
  return { ok: false, reason: CLOSE_REASONS.invalidUpdate, detail }
}

function key(id: Y.ID): string {
  return `${id.client}:${id.clock}`
}

/**
 * Nesting depth of the type an item lives in: 0 for a root type. Parents in the update are looked
 * up in `newItems`, parents in the document by walking its types up to the root.
 */
function depthOf(
  doc: Y.Doc,
  item: Y.Item,
  newItems: ReadonlyMap<string, Y.Item>,
  depths: Map<string, number>,
  state: (client: number) => number,
): number {
  let parent = item.parent as unknown
  // A decoded item without a parent inherits its neighbour's parent.
  let neighbour: Y.ID | null = item.origin ?? item.rightOrigin
  for (let hops = 0; parent === null && neighbour !== null && hops < 1_000; hops++) {
    const inUpdate = newItems.get(key(neighbour))
    if (inUpdate) {
      parent = inUpdate.parent as unknown
      neighbour = inUpdate.origin ?? inUpdate.rightOrigin
      continue
    }
    if (neighbour.clock >= state(neighbour.client)) return 0
    const struct = Y.getItem(doc.store, neighbour) as Y.Item | Y.GC
    return struct instanceof Y.Item ? typeDepth(struct.parent) : 0
  }
  if (typeof parent === 'string' || parent === null) return 0
  if (!(parent instanceof Y.ID)) return 0
  const known = depths.get(key(parent))
  if (known !== undefined) return known
  if (parent.clock >= state(parent.client)) return 0
  const struct = Y.getItem(doc.store, parent) as Y.Item | Y.GC
  return struct instanceof Y.Item ? typeDepth(struct.parent) + 1 : 0
}

/** Depth of an integrated type: how many types enclose it. */
function typeDepth(type: unknown): number {
  let depth = 0
  let current = type as { _item: Y.Item | null } | null
  while (current?._item) {
    depth += 1
    current = current._item.parent as { _item: Y.Item | null } | null
  }
  return depth
}
