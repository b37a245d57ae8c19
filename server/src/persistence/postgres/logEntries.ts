import * as Y from 'yjs'
import type { AppendEntry, DocMeta } from '../DocStore.ts'

/** Updates merged into one log entry at most: Y.mergeUpdates grows faster than linearly. */
const MERGE_LIMIT = 64

/** One document's part of a batch, as PostgresStore writes it. */
export interface PreparedDoc {
  readonly id: string
  readonly chunks: ReadonlyArray<{ readonly data: Buffer; readonly updates: number }>
  readonly updateCount: number
  readonly bytes: number
  readonly writers: ReadonlyMap<number, string>
}

/**
 * The batch per document, in id order (the order their rows are locked in). A document's
 * updates become one log entry per MERGE_LIMIT, as in LevelStore; the version counts every update.
 */
export function prepareBatch(entries: readonly AppendEntry[]): PreparedDoc[] {
  const byDoc = new Map<string, { updates: Uint8Array[]; writers: Map<number, string> }>()
  for (const { docId, update, writers } of entries) {
    let doc = byDoc.get(docId)
    if (!doc) byDoc.set(docId, (doc = { updates: [], writers: new Map() }))
    doc.updates.push(update)
    for (const [client, key] of writers ?? []) if (!doc.writers.has(client)) doc.writers.set(client, key)
  }
  const inIdOrder = [...byDoc].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return inIdOrder.map(([id, { updates, writers }]) => {
    const chunks: Array<{ data: Buffer; updates: number }> = []
    for (let start = 0; start < updates.length; start += MERGE_LIMIT) {
      const chunk = updates.slice(start, start + MERGE_LIMIT)
      const merged = chunk.length === 1 ? (chunk[0] as Uint8Array) : Y.mergeUpdates(chunk)
      chunks.push({
        data: Buffer.from(merged.buffer, merged.byteOffset, merged.byteLength),
        updates: chunk.length,
      })
    }
    const bytes = chunks.reduce((sum, chunk) => sum + chunk.data.byteLength, 0)
    return { id, chunks, updateCount: updates.length, bytes, writers }
  })
}

/**
 * Applying to a document is linear in the log (Y.mergeUpdates is quadratic in the number of
 * updates) and garbage-collects deleted content, so the merged entry is also smaller (LevelStore).
 */
export function mergeLog(updates: readonly Uint8Array[]): Buffer {
  const doc = new Y.Doc()
  doc.transact(() => {
    for (const update of updates) Y.applyUpdate(doc, update)
  })
  const merged = Y.encodeStateAsUpdate(doc)
  doc.destroy()
  return Buffer.from(merged.buffer, merged.byteOffset, merged.byteLength)
}

/** LevelStore's rule (issue 6): due at `afterEntries` entries once grown by half the last compaction. */
export function isDueForCompaction(meta: DocMeta, afterEntries: number): boolean {
  if (meta.logLength < afterEntries) return false
  const compacted = meta.compactedBytes ?? 0
  return (meta.storedBytes - compacted) * 2 >= compacted
}
