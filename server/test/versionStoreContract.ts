import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { RETENTION, type VersionMeta, type VersionStore } from '../src/persistence/VersionStore.ts'

export interface VersionStoreHarness {
  readonly versions: VersionStore
  /** Moves the store's clock to `ms`. */
  setNow(ms: number): void
  dispose(): Promise<void>
}

const HOUR_MS = 60 * 60 * 1000
const DAY_MS = 24 * HOUR_MS
const state = (byte: number): Uint8Array => new Uint8Array([byte, byte, byte])

/** One contract, run against every VersionStore implementation (STYLE.md 4, SPEC R62). */
export function versionStoreContract(name: string, makeHarness: () => Promise<VersionStoreHarness>): void {
  describe(`VersionStore contract: ${name}`, () => {
    let harness: VersionStoreHarness
    let versions: VersionStore
    beforeEach(async () => {
      harness = await makeHarness()
      versions = harness.versions
      harness.setNow(Date.UTC(2026, 0, 31, 12))
    })
    afterEach(() => harness.dispose())

    it('[R62] stores a version with its state and lists the newest first', async () => {
      const first = await versions.add('doc', {
        kind: 'auto',
        cause: 'pause',
        authors: ['Ada', '', 'Ada'],
        state: state(1),
      })
      const second = await versions.add('doc', { kind: 'named', name: 'Draft', authors: [], state: state(2) })
      expect(first).toMatchObject({ kind: 'auto', cause: 'pause', authors: ['Ada'], bytes: 3 })
      expect(second).toMatchObject({ kind: 'named', name: 'Draft', authors: [], bytes: 3 })
      expect(second.id > first.id).toBe(true)
      expect((await versions.list('doc')).map((version) => version.id)).toEqual([second.id, first.id])
      expect(await versions.get('doc', first.id)).toEqual({ meta: first, state: state(1) })
      expect(await versions.get('doc', 'ffffffffffff')).toBeNull()
      expect(await versions.list('other')).toEqual([])
    })

    it('[R62] ids increase even when the clock does not', async () => {
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push((await versions.add('doc', auto(i))).id)
      expect([...ids].sort()).toEqual(ids)
      expect(new Set(ids).size).toBe(5)
    })

    it('[R62] documents are kept apart and deleteAll removes one document’s versions only', async () => {
      const kept = await versions.add('doc-a', auto(1))
      const gone = await versions.add('doc-b', auto(2))
      await versions.add('doc-b', auto(3))
      await versions.deleteAll('doc-b')
      expect(await versions.list('doc-b')).toEqual([])
      expect(await versions.get('doc-b', gone.id)).toBeNull()
      expect(await versions.list('doc-a')).toEqual([kept])
      await versions.deleteAll('never-had-any')
    })

    it('[R62] retention: the newest automatic versions of the last 24 h, capped', async () => {
      const start = Date.UTC(2026, 0, 31, 0)
      for (let i = 0; i < RETENTION.RECENT_AUTO_KEPT + 5; i++) {
        harness.setNow(start + i * 60_000)
        await versions.add('doc', auto(i))
      }
      const listed = await versions.list('doc')
      expect(listed).toHaveLength(RETENTION.RECENT_AUTO_KEPT)
      expect(listed[0]?.createdAt).toBe(start + (RETENTION.RECENT_AUTO_KEPT + 4) * 60_000)
    })

    it('[R62] retention: older automatic versions thin to one a day for 30 days; named ones stay', async () => {
      const start = Date.UTC(2026, 0, 1, 9)
      // Four automatic versions a day for 40 days, and one named version on the first day.
      harness.setNow(start)
      const named = await versions.add('doc', {
        kind: 'named',
        name: 'First draft',
        authors: [],
        state: state(9),
      })
      for (let day = 0; day < 40; day++) {
        for (let hour = 0; hour < 4; hour++) {
          harness.setNow(start + day * DAY_MS + hour * HOUR_MS)
          await versions.add('doc', auto(day))
        }
      }
      const now = start + 39 * DAY_MS + 3 * HOUR_MS
      const listed = await versions.list('doc')
      const autos = listed.filter((version) => version.kind === 'auto')
      const older = autos.filter((version) => now - version.createdAt >= RETENTION.RECENT_MS)
      const days = older.map((version) => Math.floor(version.createdAt / DAY_MS))
      expect(new Set(days).size).toBe(days.length)
      expect(
        older.every((version) => now - version.createdAt < (RETENTION.DAILY_AUTO_DAYS + 1) * DAY_MS),
      ).toBe(true)
      expect(older.length).toBeGreaterThanOrEqual(RETENTION.DAILY_AUTO_DAYS - 1)
      expect(listed.length).toBeLessThanOrEqual(
        RETENTION.NAMED_KEPT + RETENTION.RECENT_AUTO_KEPT + RETENTION.DAILY_AUTO_DAYS + 1,
      )
      expect(listed).toContainEqual(named)
    })

    it('[R62] retention: named versions are capped at the newest ones', async () => {
      const made: VersionMeta[] = []
      for (let i = 0; i < RETENTION.NAMED_KEPT + 2; i++) {
        made.push(await versions.add('doc', { kind: 'named', name: `v${i}`, authors: [], state: state(i) }))
      }
      const listed = await versions.list('doc')
      expect(listed).toHaveLength(RETENTION.NAMED_KEPT)
      expect(listed.at(-1)).toEqual(made[2])
      expect(await versions.get('doc', made[0]?.id ?? '')).toBeNull()
    })
  })
}

function auto(byte: number): { kind: 'auto'; cause: 'pause'; authors: string[]; state: Uint8Array } {
  return { kind: 'auto', cause: 'pause', authors: [], state: state(byte) }
}
