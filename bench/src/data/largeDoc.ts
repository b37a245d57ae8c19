import { join } from 'node:path'
import * as Y from 'yjs'
import { digestOf, type Digest } from '../load/replica.ts'
import { CACHE_DIR } from '../paths.ts'
import { cached, writeUpdatesFile } from './updatesFile.ts'

export interface LargeDoc {
  /** File of the edits' updates, one per edit (see updatesFile.ts). */
  readonly file: string
  readonly edits: number
  readonly digest: Digest
}

/** Deterministic pseudo-random numbers (mulberry32), so every run builds the same document. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = 'the quick brown fox jumps over a lazy dog while many small edits build one large document '

/**
 * A large document made the way people make one: `edits` small edits at scattered positions (90 %
 * inserts of 1–17 characters, 10 % deletions of 1–5), each its own update. 15,000 edits give
 * ~120k characters of a fragmented document, which is what makes loading and encoding it cost.
 */
export function largeDoc(edits: number): Promise<LargeDoc> {
  const file = join(CACHE_DIR, `large-doc-${edits}.bin`)
  return cached(join(CACHE_DIR, `large-doc-${edits}.json`), async () => {
    const next = random(42)
    const doc = new Y.Doc()
    doc.clientID = 0x1a29e
    const text = doc.getText('t')
    const updates: Uint8Array[] = []
    doc.on('update', (update: Uint8Array) => updates.push(update))
    for (let i = 0; i < edits; i++) {
      const position = Math.floor(next() * (text.length + 1))
      if (next() < 0.1 && text.length > 10) {
        text.delete(Math.min(position, text.length - 5), 1 + Math.floor(next() * 5))
      } else {
        const start = Math.floor(next() * (WORDS.length - 17))
        text.insert(position, WORDS.slice(start, start + 1 + Math.floor(next() * 17)))
      }
    }
    await writeUpdatesFile(file, updates)
    return { file, edits, digest: digestOf(text.toString()) }
  })
}
