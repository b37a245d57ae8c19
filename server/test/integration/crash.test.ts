import { describe, expect, it, vi } from 'vitest'
import { createDoc } from './support/clients.ts'
import { startServerProcess, tempDataDir, within } from './support/serverProcess.ts'
import { Writer, destroy, provider, readDocument } from './support/writers.ts'

const CYCLES = 20
/**
 * Compaction after every 20 appends (runs about ten times a second) or every 2 (runs after almost
 * every group commit), alternating by cycle, so kills land before, during and after compactions.
 */
const COMPACT_AFTER_ENTRIES = [20, 2]
const WRITERS_PER_CYCLE = 3
/** Pause between one writer's keystrokes, and how long the writers type before the kill. */
const KEYSTROKE_PAUSE_MS = { min: 1, max: 20 }
const KILL_AFTER_MS = { min: 100, max: 900 }
/** Every token, and nothing else, is `[c<cycle>.<writer>.<n>]`; tokens are only inserted between tokens. */
const TOKEN = /\[c\d+\.\d+\.\d+\]/g

const randomBetween = ({ min, max }: { min: number; max: number }): number =>
  min + Math.floor(Math.random() * (max - min + 1))

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function occurrences(text: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const [token] of text.matchAll(TOKEN)) counts.set(token, (counts.get(token) ?? 0) + 1)
  return counts
}

describe('crash safety of a real server process', () => {
  it('[R28] every update acknowledged as saved survives kill -9, including kills during compaction, and nothing is duplicated', async () => {
    const dataDir = await tempDataDir()
    const env = (cycle: number): Record<string, string> => ({
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      COMPACT_AFTER_ENTRIES: String(COMPACT_AFTER_ENTRIES[cycle % COMPACT_AFTER_ENTRIES.length]),
    })
    let server = await startServerProcess(env(0))
    const doc = await createDoc(server.url)
    const acknowledged = new Set<string>()
    const typed = new Set<string>()
    let previousText = ''
    let cyclesWithAcks = 0
    let kills = 0

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const writers = Array.from(
        { length: WRITERS_PER_CYCLE },
        (_, index) => new Writer(provider(server, doc, 'edit'), `c${cycle}.${index}`, KEYSTROKE_PAUSE_MS),
      )
      try {
        await within(
          Promise.all(writers.map((writer) => writer.client.whenSynced())),
          10_000,
          'the writers syncing',
        )
        for (const writer of writers) writer.startTyping()
        // The random moment of the kill is the point of this test, not a guess at a condition:
        // the writers are typing, so updates are in flight, in a group commit or a compaction.
        await pause(randomBetween(KILL_AFTER_MS))
        await server.kill9()
        kills += 1
        await Promise.all(writers.map((writer) => writer.stopTyping()))
        // Acks already on the wire before the kill still count: take the snapshot only once every
        // writer has seen its connection end, after every frame that arrived before it.
        await vi.waitFor(
          () => {
            for (const writer of writers) expect(writer.client.status.connection.kind).not.toBe('connected')
          },
          { timeout: 5_000, interval: 5 },
        )
        // A refusal means the server turned away a well-behaved writer's edits.
        const refused = writers.flatMap(({ name, client: { status } }) =>
          status.connection.kind === 'refused' ? [`${name}: ${status.connection.reason.text}`] : [],
        )
        expect(refused, 'writers refused by the server').toEqual([])
      } finally {
        for (const writer of writers) destroy(writer.client)
      }
      let cycleAcks = 0
      for (const writer of writers) {
        for (const token of writer.typed) typed.add(token)
        for (const token of writer.acknowledged) acknowledged.add(token)
        cycleAcks += writer.acknowledged.length
      }
      if (cycleAcks > 0) cyclesWithAcks += 1

      // The next cycle's server: same DATA_DIR and port, maybe another compaction threshold (SPEC R5).
      server = await startServerProcess({ ...env(cycle + 1), PORT: String(server.port) })
      const text = await readDocument(server, doc)
      const counts = occurrences(text)
      // Nothing but whole tokens: no torn or interleaved writes.
      expect(text.replace(TOKEN, '')).toBe('')
      const duplicated = [...counts].filter(([, count]) => count > 1).map(([token]) => token)
      expect(duplicated, `duplicated after kill ${kills}`).toEqual([])
      const unknown = [...counts.keys()].filter((token) => !typed.has(token))
      expect(unknown, `never typed, found after kill ${kills}`).toEqual([])
      const lost = [...acknowledged].filter((token) => !counts.has(token))
      expect(lost, `acknowledged but lost after kill ${kills}`).toEqual([])
      // What a restarted server once served was on disk; later kills must not take it away.
      const regressed = [...occurrences(previousText).keys()].filter((token) => !counts.has(token))
      expect(regressed, `served after an earlier restart, lost after kill ${kills}`).toEqual([])
      previousText = text
    }

    const survivors = occurrences(previousText).size
    const meta = (await (await fetch(`${server.url}/api/docs/${doc.id}?k=${doc.viewToken}`)).json()) as {
      version: number
    }
    console.log(
      `[R28] ${kills} kills in ${CYCLES} cycles: ${typed.size} tokens typed, ${acknowledged.size} acknowledged ` +
        `(in ${cyclesWithAcks} cycles), all present once; ${survivors - acknowledged.size} unacknowledged ` +
        `survived, ${typed.size - survivors} lost; ${meta.version} updates appended`,
    )
    expect(cyclesWithAcks).toBeGreaterThanOrEqual(CYCLES / 2)
    expect(acknowledged.size).toBeGreaterThan(0)
  }, 180_000)
})
