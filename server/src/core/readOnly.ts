import * as Y from 'yjs'

interface Range {
  clock: number
  len: number
}

/**
 * Whether applying `update` would change `doc`: it holds a struct the document lacks, or deletes
 * something not yet deleted. A read-only client's sync step 2 holds its whole delete set and no new
 * structs, so it answers false and is accepted silently; anything else from a view link is
 * refused (SPEC R20). Throws on a malformed update.
 */
export function changesDocument(doc: Y.Doc, update: Uint8Array): boolean {
  const { structs, ds } = Y.decodeUpdate(update)
  const known = Y.decodeStateVector(Y.encodeStateVector(doc))
  for (const struct of structs) {
    if (struct instanceof Y.Skip) continue
    if (struct.id.clock + struct.length > (known.get(struct.id.client) ?? 0)) return true
  }
  if (ds.clients.size === 0) return false
  const deleted = Y.createDeleteSetFromStructStore(doc.store)
  for (const [client, items] of ds.clients) {
    const ranges = mergedRanges(deleted.clients.get(client) ?? [])
    for (const item of items) if (item.len > 0 && !isCovered(ranges, item.clock, item.len)) return true
  }
  return false
}

function mergedRanges(items: readonly Range[]): Range[] {
  const sorted = [...items].sort((a, b) => a.clock - b.clock)
  const merged: Range[] = []
  for (const { clock, len } of sorted) {
    const last = merged.at(-1)
    if (last && clock <= last.clock + last.len) last.len = Math.max(last.len, clock + len - last.clock)
    else merged.push({ clock, len })
  }
  return merged
}

/** Binary search for the merged range holding `clock`; covered when it reaches `clock + len`. */
function isCovered(ranges: readonly Range[], clock: number, len: number): boolean {
  let low = 0
  let high = ranges.length - 1
  while (low <= high) {
    const mid = (low + high) >> 1
    const range = ranges[mid]
    if (!range) return false
    if (range.clock > clock) high = mid - 1
    else if (range.clock + range.len <= clock) low = mid + 1
    else return range.clock + range.len >= clock + len
  }
  return false
}
