import { CLOSE_REASONS, type CloseReason } from '@tandem/shared'
import type { DocStore } from '../persistence/DocStore.ts'
import type { RoomLinks } from './ClusterSync.ts'
import type { Persister } from './Persister.ts'
import { documentTitle } from './documentTitle.ts'
import { Room, type RoomOptions } from './Room.ts'
import type * as Y from 'yjs'
import { SERVER_ORIGIN, type Peer } from './types.ts'

/** Time the shutdown may spend compacting loaded documents' logs. */
const SHUTDOWN_COMPACTION_MS = 3_000
/** Titles remembered for unloaded documents: at most 200 characters each, so ≤ ~4 MB (R60). */
const MAX_REMEMBERED_TITLES = 10_000

export interface RegistryOptions {
  /** How long a room without peers stays loaded before it is unloaded (once saved). */
  readonly roomIdleMs: number
  /** Bytes a peer may send while its room is still loading (STYLE.md 9). */
  readonly maxPendingBytes: number
  readonly onLoadError?: (docId: string, error: unknown) => void
  /** Options for each room, given its document id. */
  readonly roomOptions?: (docId: string) => RoomOptions
  /**
   * Removes what other stores keep of a document being deleted (its versions, R62): after its
   * room is gone, before the document itself, so a failure leaves a document a retry can delete.
   */
  readonly beforeDelete?: (docId: string) => Promise<void>
  /** The other nodes of a cluster, told of every room's life (R65); absent on a single node. */
  readonly links?: RoomLinks
}

/**
 * Why a room cannot be had: the reason goes to the caller as is (a 404 after a delete, a 503 while
 * shutting down), where a plain error would be a 500.
 */
export class RoomUnavailableError extends Error {
  constructor(readonly reason: CloseReason) {
    super(reason.text)
    this.name = 'RoomUnavailableError'
  }
}

/**
 * A document's join generation: bumped by closeAll, with the reason of the bump, which is what a
 * connection that started joining before it is closed with once its room loads (4404 after a
 * delete, 4403 after a links reset).
 */
interface Generation {
  readonly count: number
  readonly reason: CloseReason
}

/** Loaded rooms and join generations. */
interface RoomTable {
  readonly entries: Map<string, Entry>
  readonly generations: Map<string, Generation>
  /**
   * Documents being deleted, with the one deletion in flight: nobody joins them meanwhile and an
   * overlapping delete waits for it rather than starting a second (R55).
   */
  readonly deletions: Map<string, Promise<boolean>>
  /** Rooms loaded while the store held nothing for their document (see `read`). */
  readonly unstored: WeakSet<Room>
  isClosing: boolean
}

type Entry =
  | { readonly kind: 'loading'; readonly promise: Promise<Room> }
  | { readonly kind: 'ready'; readonly room: Room; idleTimer: NodeJS.Timeout | null }

/** A peer's handle on its room: the transport feeds frames in and says when the peer is gone. */
export interface Connection {
  receive(frame: Uint8Array): void
  /** The transport is gone. Idempotent. */
  close(): void
}

type ConnectionState =
  | { readonly kind: 'joining'; readonly pending: Uint8Array[]; pendingBytes: number }
  | { readonly kind: 'joined'; readonly room: Room }
  | { readonly kind: 'closed' }

const CLOSED: ConnectionState = { kind: 'closed' }

/** One peer's way into its room: frames that arrive while the room loads wait here. */
class RoomJoin implements Connection {
  state: ConnectionState = { kind: 'joining', pending: [], pendingBytes: 0 }

  constructor(
    private readonly peer: Peer,
    private readonly maxPendingBytes: number,
    private readonly leave: (room: Room, peer: Peer) => void,
  ) {}

  receive(frame: Uint8Array): void {
    const state = this.state
    switch (state.kind) {
      case 'joining':
        state.pending.push(frame)
        state.pendingBytes += frame.byteLength
        if (state.pendingBytes > this.maxPendingBytes) {
          this.state = CLOSED
          this.peer.close(CLOSE_REASONS.messageTooBig)
        }
        return
      case 'joined':
        state.room.receive(this.peer, frame)
        return
      case 'closed':
        return
    }
  }

  close(): void {
    if (this.state.kind === 'joined') this.leave(this.state.room, this.peer)
    this.state = CLOSED
  }
}

/**
 * Owns the loaded rooms. A room loads once however many peers join concurrently (R2), and unloads
 * only when it has had no peers for `roomIdleMs` and every write is durable (R8).
 */
export class RoomRegistry {
  readonly #table: RoomTable = {
    entries: new Map(),
    generations: new Map(),
    deletions: new Map(),
    unstored: new WeakSet(),
    isClosing: false,
  }
  readonly #entries = this.#table.entries
  readonly #generations = this.#table.generations
  /** Titles of documents not in memory, as they were when unloaded, and when (see `title`). */
  readonly #titles = new Map<string, { readonly title: string; readonly atMs: number }>()

  constructor(
    private readonly store: DocStore,
    private readonly persister: Persister,
    private readonly options: RegistryOptions,
  ) {}

  get loadedRoomCount(): number {
    return this.#entries.size
  }

  /** Loaded rooms holding an update that is not durable yet (R8). */
  get dirtyRoomCount(): number {
    let count = 0
    for (const entry of this.#entries.values()) if (entry.kind === 'ready' && entry.room.isDirty) count += 1
    return count
  }

  /** The loaded room, if any; never loads. */
  peek(docId: string): Room | undefined {
    const entry = this.#entries.get(docId)
    return entry?.kind === 'ready' ? entry.room : undefined
  }

  /**
   * Disconnects everyone in the document, including peers still joining (links were reset, R19).
   */
  closeAll(docId: string, reason: CloseReason): void {
    this.#generations.set(docId, { count: this.#generationOf(docId) + 1, reason })
    this.peek(docId)?.closeAll(reason)
    this.options.links?.closeEverywhere(docId, reason)
  }

  /**
   * Deletes the document (R55): everyone in it, and anyone still joining, is closed with `reason`;
   * the room's accepted writes are awaited (one landing after the delete would bring the document
   * back); then the store removes it. Nobody joins it meanwhile. Resolves false if it did not exist.
   * A delete that overlaps one in flight waits for it and resolves false: the document is removed,
   * and reported removed (204, document.deleted), once.
   */
  delete(docId: string, reason: CloseReason): Promise<boolean> {
    const inFlight = this.#table.deletions.get(docId)
    if (inFlight) return inFlight.then(() => false)
    const deletion = this.#delete(docId, reason).finally(() => this.#table.deletions.delete(docId))
    this.#table.deletions.set(docId, deletion)
    return deletion
  }

  async #delete(docId: string, reason: CloseReason): Promise<boolean> {
    this.closeAll(docId, reason)
    const entry = this.#entries.get(docId)
    const room = entry?.kind === 'loading' ? await entry.promise.catch(() => null) : (entry?.room ?? null)
    if (room) {
      room.closeAll(reason)
      await room.whenSaved()
      const current = this.#entries.get(docId)
      if (current?.kind === 'ready' && current.room === room) {
        if (current.idleTimer) clearTimeout(current.idleTimer)
        this.#entries.delete(docId)
        this.options.links?.close(docId)
      }
      room.destroy()
    }
    this.#titles.delete(docId)
    await this.options.beforeDelete?.(docId)
    return await this.store.delete(docId)
  }

  /** Joins `peer` to the document, loading it if needed. Frames received meanwhile are queued. */
  connect(docId: string, peer: Peer): Connection {
    const join = new RoomJoin(peer, this.options.maxPendingBytes, this.#leaveRoom)
    const generation = this.#generationOf(docId)
    if (this.#table.deletions.has(docId)) {
      join.state = CLOSED
      peer.close(CLOSE_REASONS.docNotFound)
      return join
    }
    this.#acquire(docId).then(
      (room) => {
        const current = this.#generations.get(docId)
        if (join.state.kind === 'joining' && current && current.count !== generation) {
          join.state = CLOSED
          peer.close(current.reason)
        }
        const state = join.state
        if (state.kind !== 'joining') {
          this.#scheduleIdle(docId, room)
          return
        }
        join.state = { kind: 'joined', room }
        this.#cancelIdle(docId)
        room.add(peer)
        for (const frame of state.pending) room.receive(peer, frame)
      },
      (error: unknown) => {
        const isUnavailable = error instanceof RoomUnavailableError
        if (!isUnavailable) this.options.onLoadError?.(docId, error)
        if (join.state.kind === 'closed') return
        join.state = CLOSED
        peer.close(isUnavailable ? error.reason : CLOSE_REASONS.docUnavailable)
      },
    )
    return join
  }

  readonly #leaveRoom = (room: Room, peer: Peer): void => this.#leave(room, peer)

  /**
   * Runs `read` against the document's live state, loading it for the duration if needed. Rejects
   * with a RoomUnavailableError (docNotFound) while the document is being deleted, and when the
   * store held nothing for it and still has no meta: a read that raced a finished delete reports
   * the document gone, not an empty one (R55).
   */
  async read<T>(docId: string, read: (room: Room) => T): Promise<T> {
    const room = await this.#acquire(docId)
    try {
      if (this.#table.unstored.has(room) && !(await this.store.getMeta(docId)))
        throw new RoomUnavailableError(CLOSE_REASONS.docNotFound)
      return read(room)
    } finally {
      if (room.peerCount === 0) this.#scheduleIdle(docId, room)
    }
  }

  /**
   * Changes the document on the server's behalf (a title set from the home list, a restored
   * version): one transaction with the server as its origin, so connected peers receive it as an
   * edit and it is persisted like theirs. Resolves once it is durable; rejects like `read`.
   */
  async change(docId: string, change: (doc: Y.Doc) => void): Promise<void> {
    const room = await this.read(docId, (room) => {
      room.doc.transact(() => change(room.doc), SERVER_ORIGIN)
      return room
    })
    await room.whenSaved()
  }

  /**
   * The document's title (R60): from its room while loaded; else as it was when last unloaded;
   * else loaded to read it. The home list polls the titles of many documents (R27): answered from
   * memory, they neither load each document again nor keep it loaded. `updatedAt`, the stored
   * document's last change: a title remembered before it is stale (another node of a cluster
   * changed the document, R65). Rejects like `read`.
   */
  async title(docId: string, updatedAt = 0): Promise<string> {
    const entry = this.#entries.get(docId)
    if (entry?.kind === 'ready' && !entry.room.isBroken) return documentTitle(entry.room.doc)
    const remembered = this.#titles.get(docId)
    if (remembered !== undefined && remembered.atMs >= updatedAt) return remembered.title
    return this.read(docId, (room) => documentTitle(room.doc))
  }

  #rememberTitle(docId: string, room: Room): void {
    // A room that never applied its stored updates changed nothing since the title last read.
    if (!room.isMaterialized || room.isBroken) return
    this.#titles.delete(docId)
    this.#titles.set(docId, { title: documentTitle(room.doc), atMs: Date.now() })
    // Oldest first out, so memory stays bounded however many documents are polled.
    for (const oldest of this.#titles.keys()) {
      if (this.#titles.size <= MAX_REMEMBERED_TITLES) break
      this.#titles.delete(oldest)
    }
  }

  /** Unloads every room after its writes are durable. */
  async close(): Promise<void> {
    this.#table.isClosing = true
    const rooms: Room[] = []
    for (const entry of this.#entries.values()) {
      if (entry.kind === 'ready') {
        if (entry.idleTimer) clearTimeout(entry.idleTimer)
        rooms.push(entry.room)
      }
    }
    await Promise.all(rooms.map((room) => room.whenSaved()))
    await this.#compactForNextStart(rooms)
    for (const room of rooms) {
      this.options.links?.close(room.docId)
      room.destroy()
    }
    this.#entries.clear()
  }

  /**
   * Writes each loaded document's state, which the room holds anyway, over its log of several
   * entries, so the next start loads one entry and answers its first joiner with those bytes
   * (issue 6). Bounded in time: shutdown must stay quick; what is left is compacted as usual.
   */
  async #compactForNextStart(rooms: readonly Room[]): Promise<void> {
    const compactTo = this.store.compactTo?.bind(this.store)
    if (!compactTo) return
    const deadline = Date.now() + SHUTDOWN_COMPACTION_MS
    for (const room of rooms) {
      if (Date.now() > deadline) return
      // A room given up mid-update holds memory nobody trusts: its log stays as it is.
      if (room.isBroken) continue
      try {
        const meta = await this.store.getMeta(room.docId)
        if (meta && meta.logLength > 1) await compactTo(room.docId, room.fullState(), meta.version)
      } catch {
        // Nothing is lost: the log is intact and is compacted after the next start.
      }
    }
  }

  #generationOf(docId: string): number {
    return this.#generations.get(docId)?.count ?? 0
  }

  #acquire(docId: string): Promise<Room> {
    if (this.#table.isClosing) return Promise.reject(new RoomUnavailableError(CLOSE_REASONS.serverShutdown))
    if (this.#table.deletions.has(docId))
      return Promise.reject(new RoomUnavailableError(CLOSE_REASONS.docNotFound))
    const entry = this.#entries.get(docId)
    if (entry?.kind === 'ready') return Promise.resolve(entry.room)
    if (entry?.kind === 'loading') return entry.promise
    const links = this.options.links
    // In a cluster the document's channel is open before the store is read (R65).
    const promise = (links ? links.open(docId) : Promise.resolve())
      .then(() => this.store.load(docId))
      .then((stored) => {
        const room = new Room(docId, stored, this.persister, {
          ...this.options.roomOptions?.(docId),
          onBroken: () => this.#dropBroken(docId),
        })
        if (!stored) this.#table.unstored.add(room)
        links?.attach(room)
        return room
      })
    this.#entries.set(docId, { kind: 'loading', promise })
    promise.then(
      (room) => this.#entries.set(docId, { kind: 'ready', room, idleTimer: null }),
      () => {
        this.#entries.delete(docId)
        links?.close(docId)
      },
    )
    return promise
  }

  /** A room whose memory is not trusted: everyone reconnects to a fresh load from storage (R31). */
  #dropBroken(docId: string): void {
    const entry = this.#entries.get(docId)
    if (entry?.kind !== 'ready') return
    this.#entries.delete(docId)
    this.options.links?.close(docId)
    if (entry.idleTimer) clearTimeout(entry.idleTimer)
    queueMicrotask(() => {
      entry.room.closeAll(CLOSE_REASONS.docUnavailable)
      entry.room.destroy()
    })
  }

  #leave(room: Room, peer: Peer): void {
    room.remove(peer)
    if (room.peerCount === 0) this.#scheduleIdle(room.docId, room)
  }

  #scheduleIdle(docId: string, room: Room): void {
    const entry = this.#entries.get(docId)
    if (entry?.kind !== 'ready' || entry.room !== room || entry.idleTimer) return
    entry.idleTimer = setTimeout(() => void this.#unloadIfIdle(docId, room), this.options.roomIdleMs)
  }

  #cancelIdle(docId: string): void {
    const entry = this.#entries.get(docId)
    if (entry?.kind === 'ready' && entry.idleTimer) {
      clearTimeout(entry.idleTimer)
      entry.idleTimer = null
    }
  }

  async #unloadIfIdle(docId: string, room: Room): Promise<void> {
    const entry = this.#entries.get(docId)
    if (entry?.kind !== 'ready' || entry.room !== room) return
    entry.idleTimer = null
    if (room.peerCount > 0) return
    // Never drop unsaved state: wait for the room's writes, then check nobody came back meanwhile.
    await room.whenSaved()
    const current = this.#entries.get(docId)
    if (current?.kind !== 'ready' || current.room !== room || room.peerCount > 0 || current.idleTimer) return
    this.#entries.delete(docId)
    this.options.links?.close(docId)
    this.#rememberTitle(docId, room)
    room.destroy()
  }
}
