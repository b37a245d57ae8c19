import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { RedisBus } from '../../src/cluster/RedisBus.ts'
import { busContract } from '../busContract.ts'
import { REDIS_URL, killClients, subscriberIds } from './support/redis.ts'

busContract('Redis pub/sub', async () => {
  // Each node of the pair has a prefix of this test's own for its connection names; the channels
  // are shared through one prefix.
  const prefix = `tandem-t-${randomBytes(4).toString('hex')}:`
  const a = await RedisBus.open({ url: REDIS_URL, prefix })
  const b = await RedisBus.open({ url: REDIS_URL, prefix })
  const admin = new Redis(REDIS_URL)
  return {
    a,
    b,
    // Kills b's subscribing connection only: the newer of the two named after the prefix.
    async cut() {
      const ids = await subscriberIds(admin, prefix)
      await killClients(admin, ids.slice(-1))
    },
    async dispose() {
      await a.close()
      await b.close()
      admin.disconnect()
    },
  }
})
