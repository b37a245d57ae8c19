import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import * as Y from 'yjs'
import { digestOf, type Digest } from '../load/replica.ts'
import { CACHE_DIR, TRACE_FILE } from '../paths.ts'
import { cached, writeUpdatesFile } from './updatesFile.ts'

interface TraceJson {
  readonly endContent: string
  readonly txns: ReadonlyArray<{ readonly patches: ReadonlyArray<readonly [number, number, string]> }>
}

export interface PreparedTrace {
  readonly file: string
  readonly clientId: number
  readonly ops: number
  /** The writer's insert clock after each op. */
  readonly clockAfter: readonly number[]
  /** Where a replay may stop, with the text there; the last is `ops`. */
  readonly checkpoints: ReadonlyArray<{ readonly ops: number } & Digest>
}

const TRACE_CLIENT_ID = 0x7ace

/**
 * The automerge-paper editing trace (259,778 single-character edits of a real paper; CC BY 4.0, see
 * ../shared/data/automerge-paper.NOTICE.md) as Yjs updates, one per transaction, made once by a
 * local Y.Doc and cached: generating them costs more than replaying them.
 */
export function prepareTrace(ops: number, checkpointEvery: number): Promise<PreparedTrace> {
  const file = join(CACHE_DIR, `trace-${ops}-${checkpointEvery}.bin`)
  return cached(join(CACHE_DIR, `trace-${ops}-${checkpointEvery}.json`), async () => {
    const trace = JSON.parse(gunzipSync(await readFile(TRACE_FILE)).toString()) as TraceJson
    const count = Math.min(ops, trace.txns.length)
    const doc = new Y.Doc()
    doc.clientID = TRACE_CLIENT_ID
    const text = doc.getText('t')
    const updates: Uint8Array[] = []
    doc.on('update', (update: Uint8Array) => updates.push(update))
    const clockAfter: number[] = []
    const checkpoints: Array<{ ops: number } & Digest> = []
    let clock = 0
    for (let i = 0; i < count; i++) {
      doc.transact(() => {
        for (const [position, deleted, inserted] of trace.txns[i]?.patches ?? []) {
          if (deleted > 0) text.delete(position, deleted)
          if (inserted) {
            text.insert(position, inserted)
            clock += inserted.length
          }
        }
      })
      clockAfter.push(clock)
      if ((i + 1) % checkpointEvery === 0 || i + 1 === count) {
        checkpoints.push({ ops: i + 1, ...digestOf(text.toString()) })
      }
    }
    if (count === trace.txns.length && text.toString() !== trace.endContent) {
      throw new Error('the replayed trace does not end with its endContent')
    }
    if (updates.length !== count) throw new Error(`expected one update per transaction, got ${updates.length}`)
    await writeUpdatesFile(file, updates)
    return { file, clientId: TRACE_CLIENT_ID, ops: count, clockAfter, checkpoints }
  })
}
