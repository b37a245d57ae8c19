import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { encodeMessage } from '@tandem/shared'
import { Persister } from '../src/core/Persister.ts'
import { RoomRegistry } from '../src/core/RoomRegistry.ts'
import type { Peer } from '../src/core/types.ts'
import { LevelStore, StoreLockedError } from '../src/persistence/LevelStore.ts'
import { MemoryStore } from '../src/persistence/MemoryStore.ts'
import { docStoreContract } from './docStoreContract.ts'
import { mountSmallFilesystem } from './fullDisk.ts'

docStoreContract('MemoryStore', () => {
  const store = new MemoryStore()
  return Promise.resolve({
    store,
    faults: 'MemoryStore: its writes cannot fail',
    reopen: () => Promise.resolve(store),
    dispose: () => store.close(),
  })
})

async function openLevel(dir: string, compactAfterEntries = 1000): Promise<LevelStore> {
  return LevelStore.open({ dir, syncWrites: false, compactAfterEntries })
}

// On a small tmpfs of its own when the tests run as root, so the fault contract fills a real disk.
docStoreContract('LevelStore', async () => {
  const filesystem = await mountSmallFilesystem('tmpfs', 8 << 20)
  const dir = typeof filesystem === 'string' ? await mkdtemp(join(tmpdir(), 'tandem-store-')) : filesystem.dir
  let store = await openLevel(dir)
  return {
    get store() {
      return store
    },
    faults: filesystem,
    async reopen() {
      await store.close()
      store = await openLevel(dir)
      return store
    },
    async dispose() {
      await store.close()
      if (typeof filesystem === 'string') await rm(dir, { recursive: true, force: true })
      else await filesystem.unmount()
    },
  }
})

describe('LevelStore', () => {
  it('[R5] compacts the log into one entry without losing content', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-store-'))
    try {
      const store = await openLevel(dir, 10)
      const doc = new Y.Doc()
      const updates: Uint8Array[] = []
      doc.on('update', (update: Uint8Array) => updates.push(update))
      for (let i = 0; i < 25; i++) {
        doc.getText('t').insert(0, `${i};`)
        await store.append([{ docId: 'd', update: updates.at(-1) ?? new Uint8Array() }])
      }
      await store.compact('d')
      const loaded = await store.load('d')
      expect(loaded?.updates.length).toBe(1)
      expect(loaded?.meta.logLength).toBe(1)
      expect(loaded?.meta.version).toBe(25)
      const copy = new Y.Doc()
      for (const update of loaded?.updates ?? []) Y.applyUpdate(copy, update)
      expect(copy.getText('t').toString()).toBe(doc.getText('t').toString())
      // Appends after compaction go after the merged entry.
      doc.getText('t').insert(0, 'last;')
      await store.append([{ docId: 'd', update: updates.at(-1) ?? new Uint8Array() }])
      await store.close()
      const reopened = await openLevel(dir, 10)
      const again = new Y.Doc()
      for (const update of (await reopened.load('d'))?.updates ?? []) Y.applyUpdate(again, update)
      expect(again.getText('t').toString()).toBe(doc.getText('t').toString())
      await reopened.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('[R5][R35] at shutdown, a loaded document is written over its log as one entry; the next start loads it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-store-'))
    try {
      const store = await openLevel(dir)
      await store.create('d', 'key')
      const persister = new Persister(store, { retryDelayMs: 1, maxRetryDelayMs: 1 })
      const registry = new RoomRegistry(store, persister, { roomIdleMs: 60_000, maxPendingBytes: 1024 })
      const author = new Y.Doc()
      let onJoined = (): void => undefined
      const joined = new Promise<void>((resolve) => (onJoined = resolve))
      const peer: Peer = {
        id: 'p',
        role: 'edit',
        wantsAcks: false,
        viewerName: '',
        resumeFrom: null,
        isProbe: false,
        // The room's first message (its step 1) says the document is loaded and joined.
        send: () => onJoined(),
        close: () => undefined,
        checkAlive: () => Promise.resolve(true),
      }
      const connection = registry.connect('d', peer)
      await joined
      for (const word of ['one ', 'two ', 'three']) {
        const before = Y.encodeStateVector(author)
        author.getText('t').insert(author.getText('t').length, word)
        connection.receive(
          encodeMessage({ type: 'sync-update', update: Y.encodeStateAsUpdate(author, before) }),
        )
        await persister.flush()
      }
      expect((await store.getMeta('d'))?.logLength).toBe(3)
      await registry.close()
      persister.close()
      await store.close()
      const reopened = await openLevel(dir)
      const loaded = await reopened.load('d')
      expect(loaded?.updates).toHaveLength(1)
      expect(loaded?.meta).toMatchObject({ logLength: 1, version: 3 })
      const copy = new Y.Doc()
      Y.applyUpdate(copy, loaded?.updates[0] ?? new Uint8Array())
      expect(copy.getText('t').toString()).toBe('one two three')
      // A stale version (something was appended since) leaves the log alone.
      await reopened.append([{ docId: 'd', update: Y.encodeStateAsUpdate(new Y.Doc()) }])
      await reopened.compactTo('d', new Uint8Array([0, 0]), 3)
      expect((await reopened.load('d'))?.updates).toHaveLength(2)
      await reopened.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('[R15] a second store on the same directory fails with StoreLockedError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-store-'))
    const store = await openLevel(dir)
    try {
      await expect(openLevel(dir)).rejects.toBeInstanceOf(StoreLockedError)
    } finally {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
