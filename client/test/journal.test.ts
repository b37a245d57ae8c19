import { encodeBase64 } from '@tandem/shared'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import {
  CHECKPOINT_DELAY_MS,
  MAX_JOURNAL_CHARS,
  openJournal,
  type Journal,
  type JournalOptions,
} from '../src/offline/journal.ts'
import {
  forgetJournals,
  journalKey,
  readJournal,
  type JournalStorage,
} from '../src/offline/journalStorage.ts'
import { deleteLocalReplica, openLocalReplica } from '../src/offline/localReplica.ts'
import type { PageLocks } from '../src/offline/pageLocks.ts'

const DOC_ID = 'doc-a'

/** Web Storage over a Map, with a quota in characters (keys and values), as browsers count it. */
function storageStub(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial))
  let quotaChars = Number.POSITIVE_INFINITY
  const usedChars = (): number => [...data].reduce((sum, [key, value]) => sum + key.length + value.length, 0)
  const storage: JournalStorage & { data: Map<string, string>; setQuota(chars: number): void } = {
    data,
    setQuota: (chars) => void (quotaChars = chars),
    get length() {
      return data.size
    },
    key: (index) => [...data.keys()][index] ?? null,
    getItem: (key) => data.get(key) ?? null,
    setItem(key, value) {
      const before = data.get(key)
      data.set(key, value)
      if (usedChars() <= quotaChars) return
      if (before === undefined) data.delete(key)
      else data.set(key, before)
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
    },
    removeItem: (key) => void data.delete(key),
  }
  return storage
}

/** IndexedDB as the journal sees it: each write waits until the test commits or aborts it. */
function durableStub() {
  const writes: Uint8Array[] = []
  const pending: Array<{ commit(): void; abort(): void }> = []
  const settleNext = async (isCommitted: boolean): Promise<void> => {
    const next = pending.shift()
    if (next === undefined) throw new Error('no write is pending')
    if (isCommitted) next.commit()
    else next.abort()
    // Lets the journal's handlers run.
    await vi.advanceTimersByTimeAsync(0)
  }
  const write = (update: Uint8Array): Promise<void> => {
    writes.push(update)
    return new Promise((commit, reject) =>
      pending.push({ commit, abort: () => reject(new Error('aborted')) }),
    )
  }
  return { writes, pending, write, settleNext }
}

/** Web Locks as the journal sees them: a set of held names, shared by every "page" of a test. */
function locksStub(): PageLocks & { held: Set<string> } {
  const held = new Set<string>()
  return {
    held,
    hold: (name) => {
      held.add(name)
      return Promise.resolve(() => void held.delete(name))
    },
    isHeld: (name) => Promise.resolve(held.has(name)),
  }
}

/** Types `text` at the end, one transaction per key, as the editor does. */
function type(doc: Y.Doc, text: string): void {
  for (const char of text) {
    const shared = doc.getText('t')
    shared.insert(shared.length, char)
  }
}

function textOf(updates: readonly Uint8Array[]): string {
  const doc = new Y.Doc()
  for (const update of updates) Y.applyUpdate(doc, update)
  return doc.getText('t').toString()
}

/** What a page that opened now would apply from `key`. */
function storedText(storage: JournalStorage, key: string): string {
  return textOf(readJournal(storage.getItem(key) ?? ''))
}

function updateOf(text: string): Uint8Array {
  const doc = new Y.Doc()
  type(doc, text)
  return Y.encodeStateAsUpdate(doc)
}

const opened: Journal[] = []

async function page(
  doc: Y.Doc,
  pageId: string,
  options: Pick<JournalOptions, 'storage' | 'write' | 'locks'> & Partial<JournalOptions>,
): Promise<Journal> {
  const journal = await openJournal(doc, DOC_ID, { pageId, ...options })
  opened.push(journal)
  return journal
}

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  for (const journal of opened.splice(0)) journal.forget(DOC_ID)
  vi.useRealTimers()
})

describe('[R38] Journal', () => {
  it('appends every local update to localStorage synchronously, under its page’s key', async () => {
    const storage = storageStub()
    const doc = new Y.Doc()
    const journal = await page(doc, 'page-a', { storage, write: durableStub().write, locks: locksStub() })
    expect(journal.key).toBe('tandem.journal.doc-a.page-a')
    type(doc, 'H')
    expect(storedText(storage, journal.key)).toBe('H')
    type(doc, 'ello')
    expect(storedText(storage, journal.key)).toBe('Hello')
    expect(journal.pendingEntries).toBe(5)
  })

  it('leaves out updates that are kept elsewhere: skipped origins, and what it applied itself', async () => {
    const storage = storageStub()
    const doc = new Y.Doc()
    const indexedDb = { name: 'IndexeddbPersistence' }
    const server = { name: 'SyncProvider' }
    const journal = await page(doc, 'page-a', {
      storage,
      write: durableStub().write,
      locks: locksStub(),
      skipOrigins: [indexedDb],
    })
    const stopSkipping = journal.skipOrigin(server)
    Y.applyUpdate(doc, updateOf('loaded'), indexedDb)
    Y.applyUpdate(doc, updateOf('from the server'), server)
    Y.applyUpdate(doc, updateOf('recovered'), journal)
    expect(storage.getItem(journal.key)).toBeNull()

    stopSkipping()
    Y.applyUpdate(doc, updateOf('x'), server)
    expect(storedText(storage, journal.key)).toBe('x')
  })

  it('merges its entries when it grows past a few KB, and the merged journal still holds every key', async () => {
    const storage = storageStub()
    // A fixed client id: update sizes, and so where merges fall, do not depend on a random one.
    const doc = new Y.Doc()
    doc.clientID = 3_000_000_000
    const journal = await page(doc, 'page-a', { storage, write: durableStub().write, locks: locksStub() })
    const text = 'All work and no play makes a dull editor. '.repeat(40)
    type(doc, text)
    const lines = storage.getItem(journal.key)?.split('\n') ?? []
    expect(lines.length).toBeLessThan(text.length / 4)
    expect(storedText(storage, journal.key)).toBe(text)
  })

  it('writes one checkpoint after the last update, and drops what it covered; later updates stay', async () => {
    const storage = storageStub()
    const durable = durableStub()
    const doc = new Y.Doc()
    const journal = await page(doc, 'page-a', { storage, write: durable.write, locks: locksStub() })
    type(doc, 'abc')
    await vi.advanceTimersByTimeAsync(CHECKPOINT_DELAY_MS - 1)
    type(doc, 'd')
    await vi.advanceTimersByTimeAsync(CHECKPOINT_DELAY_MS - 1)
    expect(durable.writes).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(durable.writes).toHaveLength(1)
    expect(textOf(durable.writes)).toBe('abcd')

    type(doc, 'ef')
    await durable.settleNext(true)
    // Only what came during the write is left; with what IndexedDB holds it is the whole text.
    expect(journal.pendingEntries).toBe(2)
    expect(textOf([...durable.writes, ...readJournal(storage.getItem(journal.key) ?? '')])).toBe('abcdef')

    await vi.advanceTimersByTimeAsync(CHECKPOINT_DELAY_MS)
    expect(durable.writes).toHaveLength(2)
    await durable.settleNext(true)
    expect(storage.getItem(journal.key)).toBeNull()
    expect(textOf(durable.writes)).toBe('abcdef')
  })

  it('keeps everything when a checkpoint is not committed, and tries again with the next update', async () => {
    const storage = storageStub()
    const durable = durableStub()
    const doc = new Y.Doc()
    const journal = await page(doc, 'page-a', { storage, write: durable.write, locks: locksStub() })
    type(doc, 'kept')
    await vi.advanceTimersByTimeAsync(CHECKPOINT_DELAY_MS)
    await durable.settleNext(false)
    expect(storedText(storage, journal.key)).toBe('kept')
    // A broken IndexedDB is not polled.
    await vi.advanceTimersByTimeAsync(10 * CHECKPOINT_DELAY_MS)
    expect(durable.writes).toHaveLength(1)

    type(doc, '!')
    await vi.advanceTimersByTimeAsync(CHECKPOINT_DELAY_MS)
    expect(durable.writes).toHaveLength(2)
    expect(textOf([durable.writes[1] ?? new Uint8Array()])).toBe('kept!')
    await durable.settleNext(true)
    expect(storage.getItem(journal.key)).toBeNull()
  })

  it('checkpoints at once when asked (the page is hidden), without waiting for the delay', async () => {
    const durable = durableStub()
    const doc = new Y.Doc()
    const journal = await page(doc, 'page-a', {
      storage: storageStub(),
      write: durable.write,
      locks: locksStub(),
    })
    type(doc, 'hide')
    journal.checkpointNow()
    expect(durable.writes).toHaveLength(1)
    await durable.settleNext(true)
    expect(journal.pendingEntries).toBe(0)
  })

  it('keeps editing when localStorage is full, and journals again once a checkpoint made room', async () => {
    const storage = storageStub()
    const durable = durableStub()
    const doc = new Y.Doc()
    const journal = await page(doc, 'page-a', { storage, write: durable.write, locks: locksStub() })
    type(doc, 'fits')
    storage.setQuota(storage.getItem(journal.key)?.length ?? 0)
    expect(() => type(doc, ' and then some')).not.toThrow()
    expect(journal.isWritable).toBe(false)
    // What was stored stays: an older part of the journal is still worth applying.
    expect(storedText(storage, journal.key)).toBe('fits')
    expect(doc.getText('t').toString()).toBe('fits and then some')

    // IndexedDB still gets every update.
    await vi.advanceTimersByTimeAsync(CHECKPOINT_DELAY_MS)
    expect(textOf(durable.writes)).toBe('fits and then some')
    storage.setQuota(Number.POSITIVE_INFINITY)
    await durable.settleNext(true)
    expect(journal.isWritable).toBe(true)
    expect(storage.getItem(journal.key)).toBeNull()
    type(doc, '.')
    expect(storage.getItem(journal.key)).not.toBeNull()
  })

  it('stops writing localStorage past its bound, leaving room for other documents', async () => {
    const storage = storageStub()
    const doc = new Y.Doc()
    const journal = await page(doc, 'page-a', { storage, write: durableStub().write, locks: locksStub() })
    type(doc, 'small')
    // Random text does not compress: its update is as long as it is.
    const noise = Array.from({ length: MAX_JOURNAL_CHARS }, (_, index) =>
      String.fromCharCode(0x4e00 + ((index * 7919) % 20_000)),
    ).join('')
    doc.getText('t').insert(5, noise)
    expect(journal.isWritable).toBe(false)
    expect(storedText(storage, journal.key)).toBe('small')
  })

  it('ignores journal lines that are not base64 of a Yjs update', () => {
    const good = encodeBase64(updateOf('good'))
    const truncated = encodeBase64(updateOf('cut short').slice(0, 9))
    const value = ['', 'not base64!', truncated, encodeBase64(new Uint8Array([0xff, 0xff, 0xff])), good].join(
      '\n',
    )
    const updates = readJournal(value)
    expect(updates).toHaveLength(1)
    expect(textOf(updates)).toBe('good')
  })
})

describe('[R38] a later page load', () => {
  it('applies the journal a page that is gone left, keeps it until IndexedDB has it, then removes it', async () => {
    const storage = storageStub()
    const locks = locksStub()
    const closed = new Y.Doc()
    const first = await page(closed, 'page-a', { storage, write: durableStub().write, locks })
    type(closed, 'typed, then the tab closed')
    // Closed before any checkpoint: its IndexedDB writes were aborted, and its lock went with it.
    locks.held.delete(first.key)

    const durable = durableStub()
    const doc = new Y.Doc()
    const origins: unknown[] = []
    doc.on('update', (_update: Uint8Array, origin: unknown) => origins.push(origin))
    const second = await page(doc, 'page-b', { storage, write: durable.write, locks })
    expect(doc.getText('t').toString()).toBe('typed, then the tab closed')
    expect(origins).toEqual([second])
    // Until IndexedDB commits, both journals hold it.
    expect(storedText(storage, second.key)).toBe('typed, then the tab closed')
    expect(storage.getItem(first.key)).not.toBeNull()

    await vi.advanceTimersByTimeAsync(CHECKPOINT_DELAY_MS)
    expect(textOf(durable.writes)).toBe('typed, then the tab closed')
    await durable.settleNext(true)
    expect([...storage.data.keys()]).toEqual([])
  })

  it('applies the journal of a page that is still open, and leaves it to that page', async () => {
    const storage = storageStub()
    const locks = locksStub()
    const openDoc = new Y.Doc()
    const first = await page(openDoc, 'page-a', { storage, write: durableStub().write, locks })
    type(openDoc, 'still open')

    const durable = durableStub()
    const doc = new Y.Doc()
    const second = await page(doc, 'page-b', { storage, write: durable.write, locks })
    expect(doc.getText('t').toString()).toBe('still open')
    expect(storage.getItem(second.key)).toBeNull()
    await vi.advanceTimersByTimeAsync(CHECKPOINT_DELAY_MS)
    expect(durable.writes).toHaveLength(0)
    expect(storedText(storage, first.key)).toBe('still open')
  })

  it('keeps a taken-over journal that its page rewrote meanwhile (no locks: it was still open)', async () => {
    const storage = storageStub()
    const noLocks: PageLocks = {
      hold: () => Promise.resolve(() => undefined),
      isHeld: () => Promise.resolve(false),
    }
    const openDoc = new Y.Doc()
    const first = await page(openDoc, 'page-a', { storage, write: durableStub().write, locks: noLocks })
    type(openDoc, 'one')

    const durable = durableStub()
    const doc = new Y.Doc()
    await page(doc, 'page-b', { storage, write: durable.write, locks: noLocks })
    expect(doc.getText('t').toString()).toBe('one')
    type(openDoc, ' two')
    await vi.advanceTimersByTimeAsync(CHECKPOINT_DELAY_MS)
    await durable.settleNext(true)
    expect(storedText(storage, first.key)).toBe('one two')
  })

  it('skips damaged entries of a journal it takes over, and applies the rest', async () => {
    const key = journalKey(DOC_ID, 'page-gone')
    const storage = storageStub({ [key]: ['%%%', encodeBase64(updateOf('survived')), '////'].join('\n') })
    const doc = new Y.Doc()
    await page(doc, 'page-b', { storage, write: durableStub().write, locks: locksStub() })
    expect(doc.getText('t').toString()).toBe('survived')
  })
})

describe('[R38] closing and forgetting', () => {
  it('on destroy starts one last checkpoint and holds its lock until that settles', async () => {
    const storage = storageStub()
    const locks = locksStub()
    const durable = durableStub()
    const doc = new Y.Doc()
    const journal = await page(doc, 'page-a', { storage, write: durable.write, locks })
    type(doc, 'last words')
    journal.destroy()
    expect(durable.writes).toHaveLength(1)
    expect(locks.held.has(journal.key)).toBe(true)
    type(doc, ' unheard')
    expect(storedText(storage, journal.key)).toBe('last words')
    await durable.settleNext(true)
    expect(locks.held.has(journal.key)).toBe(false)
    expect(storage.getItem(journal.key)).toBeNull()
  })

  it('on destroy leaves what IndexedDB did not take for the next page load', async () => {
    const storage = storageStub()
    const locks = locksStub()
    const durable = durableStub()
    const doc = new Y.Doc()
    const journal = await page(doc, 'page-a', { storage, write: durable.write, locks })
    type(doc, 'for later')
    journal.destroy()
    await durable.settleNext(false)
    expect(locks.held.has(journal.key)).toBe(false)
    expect(storedText(storage, journal.key)).toBe('for later')
  })

  it('forgetting a document removes every journal of it, and no other document’s', () => {
    const others = {
      [journalKey('doc-ab', 'page-x')]: 'x',
      [journalKey('doc-a-b', 'page-y')]: 'y',
      'tandem.writerKey.doc-a': 'key',
    }
    const storage = storageStub({
      ...others,
      [journalKey(DOC_ID, 'page-a')]: 'a',
      [journalKey(DOC_ID, 'page-b')]: 'b',
    })
    forgetJournals(storage, DOC_ID)
    expect(Object.fromEntries(storage.data)).toEqual(others)
  })
})

describe('[R38] openLocalReplica with a journal', () => {
  it('journals local edits where IndexedDB is missing, names the journal an origin, and deleting removes it', async () => {
    expect(typeof indexedDB).toBe('undefined')
    const storage = storageStub()
    const doc = new Y.Doc()
    const replica = await openLocalReplica(doc, `replica-${process.pid}`, { storage, locks: locksStub() })
    // No IndexedDB: a closed tab could lose edits the journal cannot hand on, so the page asks.
    expect(replica.isKeepingEdits).toBe(false)
    expect(replica.origins).toHaveLength(2)
    const server = {}
    replica.skipOrigin(server)
    Y.applyUpdate(doc, updateOf('from the server'), server)
    expect(storage.length).toBe(0)
    type(doc, 'typed')
    expect(storage.length).toBe(1)
    replica.destroy()
    doc.destroy()
    await deleteLocalReplica(`replica-${process.pid}`, storage)
    expect(storage.length).toBe(0)
  })
})
