import { encodeMessage } from '@tandem/shared'
import * as Y from 'yjs'
import type { Peer } from './types.ts'

/**
 * Updates a room applied during one turn of the event loop, sent once the turn's input has been
 * read: one update alone as it is, several merged into one (a server that falls behind catches up
 * with fewer, larger frames). Encoded once, the same bytes go to every peer; only a sole author
 * is skipped (R1).
 */
export class TurnBroadcast {
  #outgoing: Array<{
    readonly update: Uint8Array
    readonly from: Peer | null
    readonly frame: Uint8Array | null
  }> = []
  #isScheduled = false

  /** `send` delivers the frame to every peer of the room except `skip`. */
  constructor(private readonly send: (frame: Uint8Array, skip: Peer | null) => void) {}

  /** `frame`, when given, is the sync update message holding exactly `update`: sent as it is. */
  add(update: Uint8Array, from: Peer | null, frame: Uint8Array | null = null): void {
    this.#outgoing.push({ update, from, frame })
    if (this.#isScheduled) return
    this.#isScheduled = true
    setImmediate(this.flush)
  }

  /** Sends what is waiting now (presence that may point into it must not overtake it). */
  readonly flush = (): void => {
    this.#isScheduled = false
    const outgoing = this.#outgoing
    if (outgoing.length === 0) return
    this.#outgoing = []
    const first = outgoing[0] as (typeof outgoing)[number]
    if (outgoing.length === 1) {
      this.send(first.frame ?? encodeMessage({ type: 'sync-update', update: first.update }), first.from)
      return
    }
    const update = Y.mergeUpdates(outgoing.map((entry) => entry.update))
    const from = outgoing.every((entry) => entry.from === first.from) ? first.from : null
    this.send(encodeMessage({ type: 'sync-update', update }), from)
  }
}
