import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { DocStore } from '../src/persistence/DocStore.ts'

export interface StoreHarness {
  readonly store: DocStore
  /**
   * Makes the store's writes fail for real (its disk fills up) and work again, or says why that
   * cannot be done here (the fault contract is then skipped with that reason).
   */
  readonly faults: DiskFaults | string
  /** Closes and reopens the store on the same data (memory stores return themselves). */
  reopen(): Promise<DocStore>
  dispose(): Promise<void>
}

export interface DiskFaults {
  fill(): Promise<void>
  free(): Promise<void>
}

function edit(text: string, doc = new Y.Doc()): Uint8Array {
  let update: Uint8Array | null = null
  doc.once('update', (u: Uint8Array) => (update = u))
  doc.getText('t').insert(doc.getText('t').length, text)
  if (!update) throw new Error('no update')
  return update
}

function replay(updates: readonly Uint8Array[]): string {
  const doc = new Y.Doc()
  for (const update of updates) Y.applyUpdate(doc, update)
  return doc.getText('t').toString()
}

/** One contract, run against every DocStore implementation (STYLE.md 4). */
export function docStoreContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`DocStore contract: ${name}`, () => {
    let harness: StoreHarness
    beforeEach(async () => {
      harness = await makeHarness()
    })
    afterEach(async () => {
      await harness.dispose()
    })

    it('[R53] is open until closed', async () => {
      expect(harness.store.state).toBe('open')
      await harness.store.close()
      expect(harness.store.state).toBe('closed')
      await harness.reopen()
    })

    it('[R57] after a failed write, no write succeeds until the store has recovered; every acknowledged write survives', async ({
      skip,
    }) => {
      const { faults, store } = harness
      if (typeof faults === 'string') return skip(faults)
      const acknowledged: string[] = []
      let written = 0
      const write = async (): Promise<boolean> => {
        const token = `[${written++}]`
        try {
          await store.append([{ docId: 'a', update: edit(token) }])
        } catch {
          return false
        }
        acknowledged.push(token)
        return true
      }
      for (let i = 0; i < 20; i++) expect(await write()).toBe(true)
      await faults.fill()
      // What is left of the disk blocks the store already holds takes a few more writes.
      while (await write()) expect(written).toBeLessThan(100_000)
      expect.soft(store.state).toBe('failing')
      // Reads are served meanwhile; writes are refused while the disk stays full.
      expect(replay((await store.load('a'))?.updates ?? [])).toContain('[0]')
      expect(await write()).toBe(false)
      expect.soft(store.state).toBe('failing')

      await faults.free()
      // Enough writes after the failure to fill several of LevelDB's 32 KiB log blocks.
      for (let i = 0; i < 500; i++) expect(await write()).toBe(true)
      expect.soft(store.state).toBe('open')
      const reopened = await harness.reopen()
      const text = replay((await reopened.load('a'))?.updates ?? [])
      expect(acknowledged.filter((token) => !text.includes(token))).toEqual([])
    })

    it('[R5] an unknown document loads as null and has no meta', async () => {
      expect(await harness.store.load('nope')).toBeNull()
      expect(await harness.store.getMeta('nope')).toBeNull()
    })

    it('[R5] create is idempotent and gives an empty document', async () => {
      expect(await harness.store.create('a', 'key')).toBe(true)
      expect(await harness.store.create('a', 'other')).toBe(false)
      const loaded = await harness.store.load('a')
      expect(loaded?.updates).toEqual([])
      expect(loaded?.meta.version).toBe(0)
      expect(loaded?.meta.linkKey).toBe('key')
    })

    it('[R19] setLinkKey replaces the key and keeps content; appends keep the key', async () => {
      await harness.store.create('a', 'first')
      await harness.store.append([{ docId: 'a', update: edit('text') }])
      await harness.store.setLinkKey('a', 'second')
      await harness.store.append([{ docId: 'a', update: edit('more') }])
      const reopened = await harness.reopen()
      expect((await reopened.getMeta('a'))?.linkKey).toBe('second')
      expect((await reopened.load('a'))?.updates).toHaveLength(2)
      await expect(reopened.setLinkKey('missing', 'x')).rejects.toThrow()
    })

    it('[R5][R6] appended updates load back in order, across documents, in one batch', async () => {
      const doc = new Y.Doc()
      const other = new Y.Doc()
      await harness.store.append([
        { docId: 'a', update: edit('one ', doc) },
        { docId: 'b', update: edit('x', other) },
        { docId: 'a', update: edit('two', doc) },
      ])
      const a = await harness.store.load('a')
      const b = await harness.store.load('b')
      expect(replay(a?.updates ?? [])).toBe('one two')
      expect(replay(b?.updates ?? [])).toBe('x')
      expect(a?.meta.version).toBe(2)
      // A store may keep one batch's updates of a document as one merged entry (LevelStore does).
      expect(a?.meta.logLength).toBe(a?.updates.length)
      expect(a?.updates.length).toBeGreaterThanOrEqual(1)
      expect(a?.updates.length).toBeLessThanOrEqual(2)
      expect((await harness.store.getMeta('b'))?.version).toBe(1)
    })

    it('[R5] ids that share a prefix never see each other’s entries', async () => {
      await harness.store.append([
        { docId: 'a', update: edit('A') },
        { docId: 'a-b', update: edit('B') },
        { docId: 'ab', update: edit('C') },
      ])
      expect(replay((await harness.store.load('a'))?.updates ?? [])).toBe('A')
      expect(replay((await harness.store.load('a-b'))?.updates ?? [])).toBe('B')
    })

    it('[R5] data survives closing and reopening', async () => {
      const doc = new Y.Doc()
      for (let i = 0; i < 20; i++) await harness.store.append([{ docId: 'a', update: edit(`${i},`, doc) }])
      const reopened = await harness.reopen()
      const loaded = await reopened.load('a')
      expect(replay(loaded?.updates ?? [])).toBe(doc.getText('t').toString())
      expect(loaded?.meta.version).toBe(20)
    })

    it('[R55] delete removes the log and the meta, and only of that document', async () => {
      await harness.store.create('a', 'key-a')
      await harness.store.append([
        { docId: 'a', update: edit('A') },
        { docId: 'a-b', update: edit('B') },
      ])
      expect(await harness.store.delete('a')).toBe(true)
      expect(await harness.store.delete('a')).toBe(false)
      expect(await harness.store.load('a')).toBeNull()
      expect(await harness.store.getMeta('a')).toBeNull()
      const reopened = await harness.reopen()
      expect(await reopened.load('a')).toBeNull()
      expect(replay((await reopened.load('a-b'))?.updates ?? [])).toBe('B')
      // Created again, it starts empty: nothing of the old log comes back.
      expect(await reopened.create('a', 'new-key')).toBe(true)
      expect((await reopened.load('a'))?.updates).toEqual([])
    })

    it('[R33] writer bindings are stored with their update, per document, and go with a delete', async () => {
      await harness.store.create('a', 'key-a')
      await harness.store.append([
        { docId: 'a', update: edit('A'), writers: [[7, 'digest-7']] },
        { docId: 'a-b', update: edit('B'), writers: [[8, 'digest-8']] },
      ])
      const reopened = await harness.reopen()
      expect([...((await reopened.load('a'))?.writers ?? [])]).toEqual([[7, 'digest-7']])
      expect([...((await reopened.load('a-b'))?.writers ?? [])]).toEqual([[8, 'digest-8']])
      await reopened.delete('a')
      await reopened.create('a', 'key-a2')
      expect([...((await reopened.load('a'))?.writers ?? [])]).toEqual([])
    })

    it('[R56] lists documents in id order, a page at a time after a cursor', async () => {
      for (const id of ['c', 'a', 'b', 'd']) await harness.store.create(id, `key-${id}`)
      await harness.store.append([{ docId: 'b', update: edit('B') }])
      const first = await harness.store.list({ limit: 3 })
      expect(first.map((doc) => doc.id)).toEqual(['a', 'b', 'c'])
      expect(first[1]?.meta.version).toBe(1)
      const second = await harness.store.list({ after: 'c', limit: 3 })
      expect(second.map((doc) => doc.id)).toEqual(['d'])
      expect(await harness.store.list({ after: 'd', limit: 3 })).toEqual([])
    })
  })
}
