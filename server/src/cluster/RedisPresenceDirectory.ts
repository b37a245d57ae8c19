import type { Redis } from 'ioredis'
import { mergePresence, NOBODY, type DocPresence, type PresenceDirectory } from '../core/presenceDirectory.ts'

/** A node's part counts this long after it was last written; nodes renew theirs well inside. */
export const PRESENCE_TTL_MS = 30_000
/** How often a node renews the parts it holds. */
const RENEW_MS = 10_000
/** Changes within this long are written once. */
const COALESCE_MS = 100

interface Stored extends DocPresence {
  /** When the node wrote it, in ms since the epoch. */
  readonly at: number
}

/**
 * The presence directory in Redis (SPEC R66): one hash per document (`<prefix>presence:<id>`), one
 * field per node holding its part with the time it was written. Readers skip parts older than
 * PRESENCE_TTL_MS (a node that died); the key expires once nobody renews it.
 */
export class RedisPresenceDirectory implements PresenceDirectory {
  readonly #parts = new Map<string, DocPresence>()
  readonly #dirty = new Set<string>()
  #flushTimer: NodeJS.Timeout | null = null
  readonly #renewTimer: NodeJS.Timeout

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly nodeId: string,
  ) {
    this.#renewTimer = setInterval(() => {
      for (const docId of this.#parts.keys()) this.#dirty.add(docId)
      this.#flush()
    }, RENEW_MS)
    this.#renewTimer.unref()
  }

  report(docId: string, part: DocPresence | null): void {
    if (part && part.connections > 0) this.#parts.set(docId, part)
    else if (!this.#parts.delete(docId)) return
    this.#dirty.add(docId)
    this.#flushTimer ??= setTimeout(() => this.#flush(), COALESCE_MS)
  }

  async read(docId: string): Promise<DocPresence> {
    const fields = await this.redis.hgetall(this.#key(docId))
    const now = Date.now()
    const parts: DocPresence[] = []
    for (const [node, value] of Object.entries(fields)) {
      // This node's own part is read from its rooms, which are fresher.
      if (node === this.nodeId) continue
      try {
        const part = JSON.parse(value) as Stored
        if (now - part.at < PRESENCE_TTL_MS) parts.push(part)
      } catch {
        // A field this version cannot read counts as nobody.
      }
    }
    return parts.length > 0 ? mergePresence(parts) : NOBODY
  }

  async close(): Promise<void> {
    clearInterval(this.#renewTimer)
    if (this.#flushTimer) clearTimeout(this.#flushTimer)
    // This node's parts go at once rather than after PRESENCE_TTL_MS.
    for (const docId of this.#parts.keys()) this.#dirty.add(docId)
    this.#parts.clear()
    await this.#write().catch(() => {})
  }

  #flush(): void {
    this.#flushTimer = null
    // Redis unreachable: the parts are written again at the next change or renewal.
    this.#write().catch(() => {})
  }

  async #write(): Promise<void> {
    if (this.#dirty.size === 0) return
    const batch = this.redis.multi()
    const at = Date.now()
    for (const docId of this.#dirty) {
      const part = this.#parts.get(docId)
      const key = this.#key(docId)
      if (part) {
        batch.hset(key, this.nodeId, JSON.stringify({ ...part, at }))
        batch.pexpire(key, PRESENCE_TTL_MS * 2)
      } else batch.hdel(key, this.nodeId)
    }
    this.#dirty.clear()
    await batch.exec()
  }

  #key(docId: string): string {
    return `${this.prefix}presence:${docId}`
  }
}
