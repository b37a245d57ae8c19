import { closeReasonByCode, type CloseReason } from '@tandem/shared'
import type { AppendEntry, StoredDoc } from '../persistence/DocStore.ts'
import type { DocBus } from './bus.ts'
import type { PresenceDirectory } from './presenceDirectory.ts'
import { decodeClusterMessage, encodeClusterMessage, type ClusterMessage } from './clusterMessages.ts'
import type { Room } from './Room.ts'
import type { Disposer } from './types.ts'

/** Messages kept for a document still loading; past this it catches up from the store instead. */
const MAX_BUFFERED_MESSAGES = 1_000
const DEFAULT_RETRY_DELAY_MS = 1_000

/** Why a node reads a document back from the store (metrics, logs). */
export type CatchUpReason = 'gap' | 'missing' | 'reconnect' | 'overflow'

/** What a registry tells the cluster about its rooms' lives (R65). */
export interface RoomLinks {
  /** Before the store is read: resolves once nothing published from then on can be missed. */
  open(docId: string): Promise<void>
  /** The room is loaded: messages that came meanwhile apply now. */
  attach(room: Room): void
  /** The room is gone (unloaded, deleted, given up, or it failed to load). */
  close(docId: string): void
  /** Everyone in the document, on every node, is to be closed with `reason` (R19, R55). */
  closeEverywhere(docId: string, reason: CloseReason): void
}

export interface ClusterSyncOptions {
  readonly bus: DocBus
  /** This node's id, unique per process start. */
  readonly nodeId: string
  readonly load: (docId: string) => Promise<StoredDoc | null>
  readonly onCatchUp?: (docId: string, reason: CatchUpReason) => void
  readonly onError?: (docId: string, error: unknown) => void
  readonly retryDelayMs?: number
  /** Where this node's part of each document's presence is kept for the dashboard (R66). */
  readonly directory?: PresenceDirectory
}

interface Link {
  readonly docId: string
  /** This node and this life of the document on it: a reload starts a new sequence. */
  readonly source: string
  outSeq: number
  room: Room | null
  /** Messages received while loading; null once attached. */
  buffered: ClusterMessage[] | null
  hasOverflowed: boolean
  /** Last sequence number seen per source. */
  readonly seen: Map<string, number>
  catchUp: 'idle' | 'running' | 'again'
  dispose: Disposer | null
  isClosed: boolean
}

/**
 * Keeps a node's rooms in step with the other nodes' (SPEC R65, R66). Committed updates go out on
 * the document's channel with a per-source sequence; received ones are applied to the room and
 * sent to its peers. A node never trusts that it missed nothing: a skipped sequence number, an
 * update whose dependencies it lacks, or a bus that lost its connection make it read the document
 * back from the store and apply what it lacks. Subscribing before the store is read, and
 * publishing only what is committed, leaves no window: an update is either in what the load read
 * or delivered afterwards.
 */
export class ClusterSync implements RoomLinks {
  readonly #links = new Map<string, Link>()
  #lives = 0
  readonly #disposers: Disposer[] = []

  constructor(private readonly options: ClusterSyncOptions) {
    this.#disposers.push(options.bus.onGap(() => this.#onGap()))
  }

  async open(docId: string): Promise<void> {
    this.close(docId)
    const link: Link = {
      docId,
      source: `${this.options.nodeId}/${(this.#lives += 1)}`,
      outSeq: 0,
      room: null,
      buffered: [],
      hasOverflowed: false,
      seen: new Map(),
      catchUp: 'idle',
      dispose: null,
      isClosed: false,
    }
    this.#links.set(docId, link)
    const dispose = await this.options.bus.subscribe(docId, (bytes) => this.#receive(link, bytes))
    if (link.isClosed) dispose()
    else link.dispose = dispose
  }

  attach(room: Room): void {
    const link = this.#links.get(room.docId)
    if (!link || link.room) return
    link.room = room
    const buffered = link.buffered ?? []
    link.buffered = null
    for (const message of buffered) this.#handle(link, room, message)
    if (link.hasOverflowed) this.#catchUp(link, 'overflow')
    // Presence of the other nodes' clients, which this node has not heard of yet (R66).
    this.#publish(link, { type: 'query', source: link.source })
  }

  close(docId: string): void {
    const link = this.#links.get(docId)
    if (!link) return
    this.#links.delete(docId)
    link.isClosed = true
    link.room = null
    link.dispose?.()
    this.options.directory?.report(docId, null)
  }

  /** A batch became durable: each document's part of it goes to the other nodes (R65). */
  committed(entries: readonly AppendEntry[]): void {
    const byDoc = new Map<string, { updates: Uint8Array[]; writers: Array<readonly [number, string]> }>()
    for (const entry of entries) {
      if (!this.#links.has(entry.docId)) continue
      let part = byDoc.get(entry.docId)
      if (!part) byDoc.set(entry.docId, (part = { updates: [], writers: [] }))
      part.updates.push(entry.update)
      if (entry.writers) part.writers.push(...entry.writers)
    }
    for (const [docId, { updates, writers }] of byDoc) {
      const link = this.#links.get(docId) as Link
      this.#publish(link, { type: 'update', source: link.source, seq: (link.outSeq += 1), updates, writers })
    }
  }

  closeEverywhere(docId: string, reason: CloseReason): void {
    const link = this.#links.get(docId)
    // Only nodes serving the document listen on its channel: they are the ones with connections.
    const message = encodeClusterMessage({
      type: 'close',
      source: link?.source ?? `${this.options.nodeId}/0`,
      code: reason.code,
    })
    this.options.bus.publish(docId, message)
  }

  /** This node's clients changed their presence (R66). */
  presence(docId: string, update: Uint8Array): void {
    const link = this.#links.get(docId)
    if (!link?.room) return
    this.#publish(link, { type: 'awareness', source: link.source, update })
    this.options.directory?.report(docId, link.room.localPresenceSummary())
  }

  /** A connection of this node joined or left the document (R66). */
  peersChanged(docId: string): void {
    const room = this.#links.get(docId)?.room
    if (room) this.options.directory?.report(docId, room.localPresenceSummary())
  }

  destroy(): void {
    for (const dispose of this.#disposers.splice(0)) dispose()
    for (const docId of [...this.#links.keys()]) this.close(docId)
  }

  #publish(link: Link, message: ClusterMessage): void {
    this.options.bus.publish(link.docId, encodeClusterMessage(message))
  }

  #receive(link: Link, bytes: Uint8Array): void {
    if (link.isClosed) return
    let message: ClusterMessage
    try {
      message = decodeClusterMessage(bytes)
    } catch (error) {
      this.options.onError?.(link.docId, error)
      return
    }
    // This node's own messages come back on the channel it publishes to.
    if (message.source.startsWith(`${this.options.nodeId}/`)) return
    if (link.buffered) {
      if (link.buffered.length < MAX_BUFFERED_MESSAGES) link.buffered.push(message)
      else link.hasOverflowed = true
      return
    }
    if (link.room) this.#handle(link, link.room, message)
  }

  #handle(link: Link, room: Room, message: ClusterMessage): void {
    switch (message.type) {
      case 'update': {
        const last = link.seen.get(message.source)
        link.seen.set(message.source, message.seq)
        let reason: CatchUpReason | null = last !== undefined && message.seq !== last + 1 ? 'gap' : null
        for (const update of message.updates) {
          const outcome = room.applyRemote(update, message.writers)
          if (outcome !== 'applied') reason ??= 'missing'
        }
        if (reason) this.#catchUp(link, reason)
        return
      }
      case 'awareness':
        room.applyRemotePresence(message.update)
        return
      case 'query': {
        const local = room.localPresence()
        if (local) this.#publish(link, { type: 'awareness', source: link.source, update: local })
        return
      }
      case 'close': {
        // Its connections go; the room unloads once idle. Joins are refused by the store's
        // answer to the token check (a reset key, a deleted document).
        const reason = closeReasonByCode(message.code)
        if (reason) room.closeAll(reason)
        return
      }
    }
  }

  /**
   * The bus may have dropped messages both ways: every loaded document reads back what it lacks,
   * asks for presence again, and tells the others where its sequence stands — a message of no
   * updates whose number shows them any this node failed to publish.
   */
  #onGap(): void {
    for (const link of this.#links.values()) {
      if (!link.room) continue
      this.#catchUp(link, 'reconnect')
      this.#publish(link, {
        type: 'update',
        source: link.source,
        seq: (link.outSeq += 1),
        updates: [],
        writers: [],
      })
      this.#publish(link, { type: 'query', source: link.source })
    }
  }

  /** One read at a time per document; asked again meanwhile, it reads once more after. */
  #catchUp(link: Link, reason: CatchUpReason): void {
    if (link.catchUp !== 'idle') {
      link.catchUp = 'again'
      return
    }
    link.catchUp = 'running'
    this.options.onCatchUp?.(link.docId, reason)
    void this.#runCatchUp(link)
  }

  async #runCatchUp(link: Link): Promise<void> {
    while (!link.isClosed) {
      try {
        const stored = await this.options.load(link.docId)
        if (stored && link.room) link.room.catchUp(stored.updates, stored.writers)
        if (link.catchUp !== 'again') break
      } catch (error) {
        // The store is down: what is missing stays missing until it answers again.
        this.options.onError?.(link.docId, error)
        await new Promise((resolve) =>
          setTimeout(resolve, this.options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS),
        )
      }
      link.catchUp = 'running'
    }
    link.catchUp = 'idle'
  }
}
