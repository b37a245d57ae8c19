import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelStore } from '../src/persistence/LevelStore.ts'
import { LevelOutboxStore } from '../src/webhooks/LevelOutboxStore.ts'
import { MemoryOutboxStore } from '../src/webhooks/MemoryOutboxStore.ts'
import { outboxStoreContract } from './outboxStoreContract.ts'

outboxStoreContract('MemoryOutboxStore', () =>
  Promise.resolve({
    outbox: new MemoryOutboxStore(),
    reopen: null,
    peer: null,
    dispose: () => Promise.resolve(),
  }),
)

// The sublevel main.ts gives it, in the documents' LevelDB.
outboxStoreContract('LevelOutboxStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-outbox-'))
  const open = () => LevelStore.open({ dir, syncWrites: false, compactAfterEntries: 500 })
  let store = await open()
  return {
    outbox: new LevelOutboxStore(store.sublevel('webhooks'), false),
    async reopen() {
      await store.close()
      store = await open()
      return new LevelOutboxStore(store.sublevel('webhooks'), false)
    },
    peer: null,
    async dispose() {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
})
