import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelStore } from '../src/persistence/LevelStore.ts'
import { LevelVersionStore } from '../src/persistence/LevelVersionStore.ts'
import { MemoryVersionStore } from '../src/persistence/MemoryVersionStore.ts'
import { versionStoreContract } from './versionStoreContract.ts'

versionStoreContract('MemoryVersionStore', () => {
  let now = 0
  const versions = new MemoryVersionStore({ now: () => now })
  return Promise.resolve({ versions, setNow: (ms: number) => (now = ms), dispose: () => Promise.resolve() })
})

versionStoreContract('LevelVersionStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-versions-'))
  const store = await LevelStore.open({ dir, syncWrites: false, compactAfterEntries: 500 })
  let now = 0
  const versions = new LevelVersionStore(store.binarySublevel('versions'), {
    syncWrites: false,
    now: () => now,
  })
  return {
    versions,
    setNow: (ms: number) => (now = ms),
    async dispose() {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
})
