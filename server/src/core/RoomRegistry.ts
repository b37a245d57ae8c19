import { CLOSE_REASONS, type CloseReason } from '@tandem/shared'
import type { DocStore } from '../persistence/DocStore.ts'
import type { Persister } from './Persister.ts'
import { Room, type RoomOptions } from './Room.ts'
import type { Peer } from './types.ts'

export interface RegistryOptions {
  /** How long a room without peers stays loaded before it is unloaded (once saved). */
  readonly roomIdleMs: number
  /** Bytes a peer may send while its room is still loading (STYLE.md 9). */
  readonly maxPendingBytes: number
  readonly onLoadError?: (docId: string, error: unknown) => void
  /** Options for each room, given its document id. */
  readonly roomOptions?: (docId: string) => RoomOptions
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

/**
 * Owns the loaded rooms. A room loads once however many peers join concurrently (R2), and unloads
 * only when it has had no peers for `roomIdleMs` and every write is durable (R8).
 */
export class RoomRegistry {
  readonly #entries = new Map<string, Entry>()
  /** Bumped by closeAll: a connection that started joining before it is refused once loaded. */
  readonly #generations = new Map<string, number>()
  #isClosing = false

  constructor(
    private readonly store: DocStore,
    private readonly persister: Persister,
    private readonly options: RegistryOptions,
  ) {}

  get loadedRoomCount(): number {
    return this.#entries.size
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
    this.#generations.set(docId, (this.#generations.get(docId) ?? 0) + 1)
    this.peek(docId)?.closeAll(reason)
  }

  /** Joins `peer` to the document, loading it if needed. Frames received meanwhile are queued. */
  connect(docId: string, peer: Peer): Connection {
    let state: ConnectionState = { kind: 'joining', pending: [], pendingBytes: 0 }
    const generation = this.#generations.get(docId) ?? 0
    const connection: Connection = {
      receive: (frame) => {
        switch (state.kind) {
          case 'joining':
            state.pending.push(frame)
            state.pendingBytes += frame.byteLength
            if (state.pendingBytes > this.options.maxPendingBytes) {
              state = { kind: 'closed' }
              peer.close(CLOSE_REASONS.messageTooBig)
            }
            return
          case 'joined':
            state.room.receive(peer, frame)
            return
          case 'closed':
            return
        }
      },
      close: () => {
        if (state.kind === 'joined') this.#leave(state.room, peer)
        state = { kind: 'closed' }
      },
    }
    this.#acquire(docId).then(
      (room) => {
        if (state.kind === 'joining' && generation !== (this.#generations.get(docId) ?? 0)) {
          state = { kind: 'closed' }
          peer.close(CLOSE_REASONS.forbidden)
        }
        if (state.kind !== 'joining') {
          this.#scheduleIdle(docId, room)
          return
        }
        const pending = state.pending
        state = { kind: 'joined', room }
        this.#cancelIdle(docId)
        room.add(peer)
        for (const frame of pending) room.receive(peer, frame)
      },
      (error: unknown) => {
        this.options.onLoadError?.(docId, error)
        if (state.kind === 'closed') return
        state = { kind: 'closed' }
        peer.close(CLOSE_REASONS.docUnavailable)
      },
    )
    return connection
  }

  /** Runs `read` against the document's live state, loading it for the duration if needed. */
  async read<T>(docId: string, read: (room: Room) => T): Promise<T> {
    const room = await this.#acquire(docId)
    try {
      return read(room)
    } finally {
      if (room.peerCount === 0) this.#scheduleIdle(docId, room)
    }
  }

  /** Unloads every room after its writes are durable. */
  async close(): Promise<void> {
    this.#isClosing = true
    const rooms: Room[] = []
    for (const entry of this.#entries.values()) {
      if (entry.kind === 'ready') {
        if (entry.idleTimer) clearTimeout(entry.idleTimer)
        rooms.push(entry.room)
      }
    }
    await Promise.all(rooms.map((room) => room.whenSaved()))
    for (const room of rooms) room.destroy()
    this.#entries.clear()
  }

  #acquire(docId: string): Promise<Room> {
    if (this.#isClosing) return Promise.reject(new Error('server shutting down'))
    const entry = this.#entries.get(docId)
    if (entry?.kind === 'ready') return Promise.resolve(entry.room)
    if (entry?.kind === 'loading') return entry.promise
    const promise = this.store.load(docId).then(
      (stored) =>
        new Room(docId, stored, this.persister, {
          ...this.options.roomOptions?.(docId),
          onBroken: () => this.#dropBroken(docId),
        }),
    )
    this.#entries.set(docId, { kind: 'loading', promise })
    promise.then(
      (room) => this.#entries.set(docId, { kind: 'ready', room, idleTimer: null }),
      () => this.#entries.delete(docId),
    )
    return promise
  }

  /** A room whose memory is not trusted: everyone reconnects to a fresh load from storage (R31). */
  #dropBroken(docId: string): void {
    const entry = this.#entries.get(docId)
    if (entry?.kind !== 'ready') return
    this.#entries.delete(docId)
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
    room.destroy()
  }
}
