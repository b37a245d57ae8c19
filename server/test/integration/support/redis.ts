import type { Redis } from 'ioredis'

export const REDIS_URL = 'redis://127.0.0.1:6379'

/**
 * Ids of the subscribing connections a RedisBus with `prefix` opened (they are named after it),
 * oldest first: other tests' connections on the shared Redis are left alone.
 */
export async function subscriberIds(admin: Redis, prefix: string): Promise<number[]> {
  const clients = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'))
  return clients
    .split('\n')
    .filter((line) => line.includes(` name=${prefix}subscribe `))
    .map((line) => Number(/id=(\d+)/.exec(line)?.[1]))
    .filter((id) => Number.isInteger(id))
    .sort((x, y) => x - y)
}

/** Cuts the given connections, as a network blip or Redis dropping a slow consumer does. */
export async function killClients(admin: Redis, ids: readonly number[]): Promise<void> {
  for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', String(id))
}
