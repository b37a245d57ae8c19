import * as Y from 'yjs'
import { nowMs } from '../util/clock.ts'

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz'

/**
 * A client's own edits: one character appended per update to the shared text `t`, after its own
 * previous character. The writer's doc holds only its own edits (others' are in the replica), which
 * keeps generating an update cheap and still yields valid, interleaving Yjs inserts.
 */
export class Writer {
  readonly doc = new Y.Doc()
  readonly #text = this.doc.getText('t')
  /** Send time (shared monotonic clock) of the change with each clock. */
  readonly sentAt: number[] = []
  #captured: Uint8Array | null = null

  constructor() {
    this.doc.on('update', (update: Uint8Array) => {
      this.#captured = update
    })
  }

  get clientId(): number {
    return this.doc.clientID
  }

  /** The next clock this writer will use: how many characters it has inserted. */
  get clock(): number {
    return this.#text.length
  }

  /** Makes one change and returns its Yjs update; the change's time is recorded as now. */
  next(): Uint8Array {
    const clock = this.#text.length
    // The change happens now: the latency it starts includes encoding it.
    this.sentAt[clock] = nowMs()
    this.#text.insert(clock, ALPHABET[clock % ALPHABET.length] ?? 'x')
    const update = this.#captured
    this.#captured = null
    if (!update) throw new Error('insert produced no update')
    return update
  }
}
