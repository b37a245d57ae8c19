import type { Page, TestInfo } from '@playwright/test'
import { startFaultProxy, type FaultProxy } from '../support/faultProxy.ts'
import { expect, test } from '../support/fixtures.ts'
import { installPageWatch, readPageWatch, statesBetween } from '../support/pageWatch.ts'
import type { TandemServer } from '../support/server.ts'
import { connectionEnds } from '../support/serverLog.ts'

/** FAULT_RUNS=10 repeats every scenario and prints median and max recovery per fault. */
const FAULT_RUNS = Math.max(1, Number(process.env['FAULT_RUNS'] ?? '1'))
/**
 * From the network's return to "Saved". The client's backoff is capped at 15 s with full jitter
 * (R12), a silent connection is given up after 10 s, a stale holder within 8 s (R36): 30 s holds
 * the worst case of each; a healthy recovery takes a few seconds (printed).
 */
const RECOVERY_TIMEOUT_MS = 30_000
const BLACKHOLE_MS = 15_000
const REFUSE_MS = 10_000
const LATENCY_MS = 2_000
/** Typing under latency this long covers several heartbeats' worth of silence (4 s ping, R12). */
const LATENCY_HOLD_MS = 10_000
/** Slow enough that pieces are spread over the fault, not typed in one burst. */
const KEY_DELAY_MS = 50
const PER_RUN_TIMEOUT_MS = 120_000

interface FaultContext {
  readonly proxy: FaultProxy
  readonly server: TandemServer
  readonly typist: Typist
}

interface Fault {
  readonly name: string
  /** The SPEC rules the scenario proves besides R7 (every edit acknowledged as saved). */
  readonly rules: string
  readonly title: string
  /** Applies the fault, types while it lasts, ends it and returns when the network was back. */
  inflict(context: FaultContext): Promise<number>
  /** Shows that the fault really happened, and checks what must hold while it did. */
  verify(context: FaultContext, page: Page, span: { fromMs: number; toMs: number }): Promise<void> | void
}

const FAULTS: readonly Fault[] = [
  {
    name: 'half-open',
    rules: '[R36][R12]',
    title: 'a Wi-Fi switch leaves the old connection open and silent on the server',
    async inflict({ proxy, typist }) {
      proxy.halfOpen()
      const restoredAtMs = Date.now()
      await typist.type(3)
      return restoredAtMs
    },
    verify({ proxy }) {
      expect(proxy.counts.silenced, 'server-side sockets left half-open').toBeGreaterThan(0)
    },
  },
  {
    name: 'blackhole',
    rules: '[R12][R36]',
    title: `the path dies for ${BLACKHOLE_MS / 1000} s (no bytes, no FIN; open connections stay dead)`,
    async inflict({ proxy, typist }) {
      proxy.blackhole()
      await typist.typeFor(BLACKHOLE_MS)
      proxy.pass()
      return Date.now()
    },
    verify({ proxy }) {
      expect(proxy.counts.silenced, 'connections silenced').toBeGreaterThan(0)
      expect(proxy.counts.droppedBytes, 'bytes swallowed').toBeGreaterThan(0)
    },
  },
  {
    name: 'stall',
    rules: '[R12]',
    title: `nothing gets through for ${BLACKHOLE_MS / 1000} s, then TCP delivers what it held`,
    async inflict({ proxy, typist }) {
      proxy.stall()
      await typist.typeFor(BLACKHOLE_MS)
      proxy.pass()
      return Date.now()
    },
    verify({ proxy }) {
      expect(proxy.counts.heldChunks, 'chunks held by the stall').toBeGreaterThan(0)
    },
  },
  {
    name: 'refused',
    rules: '[R12]',
    title: `new connections are refused for ${REFUSE_MS / 1000} s, open ones cut`,
    async inflict({ proxy, typist }) {
      proxy.refuse()
      await typist.typeFor(REFUSE_MS)
      proxy.pass()
      return Date.now()
    },
    verify({ proxy }) {
      expect(proxy.counts.cut, 'open connections cut').toBeGreaterThan(0)
      expect(proxy.counts.refused, 'attempts refused').toBeGreaterThan(0)
    },
  },
  {
    name: 'latency',
    rules: '[R12][R26]',
    title: `${LATENCY_MS / 1000} s added each way; the page keeps its slow but live connection`,
    async inflict({ proxy, typist }) {
      proxy.latency(LATENCY_MS)
      await typist.typeFor(LATENCY_HOLD_MS)
      proxy.pass()
      return Date.now()
    },
    async verify({ proxy }, page, span) {
      expect(proxy.counts.delayedChunks, 'chunks delayed').toBeGreaterThan(0)
      const states = statesBetween(await readPageWatch(page), span.fromMs, span.toMs)
      expect(new Set(states), 'connection states shown under latency').toEqual(new Set(['connected']))
    },
  },
  {
    name: 'restart',
    rules: '[R35][R12]',
    title: 'the server restarts gracefully (SIGTERM) on the same data and port',
    async inflict({ server, typist }) {
      await server.stop()
      await typist.type(3)
      return typeWhile(typist, server.start())
    },
    verify: (_context, page, span) => expectOutageNoticed(page, span),
  },
  {
    name: 'kill-9',
    rules: '[R28][R12]',
    title: 'the server is killed (SIGKILL) and started again on the same data and port',
    async inflict({ server, typist }) {
      await server.kill()
      await typist.type(3)
      return typeWhile(typist, server.start())
    },
    verify: (_context, page, span) => expectOutageNoticed(page, span),
  },
]

/** The page showed the server gone (offline, reconnecting, …), not "Connected" throughout. */
async function expectOutageNoticed(page: Page, span: { fromMs: number; toMs: number }): Promise<void> {
  const states = statesBetween(await readPageWatch(page), span.fromMs, span.toMs)
  expect(
    states.filter((state) => state !== 'connected'),
    `states shown while the server was down: ${states.join(' → ')}`,
  ).not.toEqual([])
}

/** Recovery times per fault, across runs; printed as a table after the last test. */
const recoveries = new Map<string, number[]>()

for (const fault of FAULTS) {
  test(`${fault.rules}[R7] ${fault.name}: ${fault.title}; every edit from before, during and after is saved once, the page never refused or read-only`, async ({
    server,
    createDoc,
    serverText,
    newActor,
  }, testInfo) => {
    test.setTimeout(FAULT_RUNS * PER_RUN_TIMEOUT_MS)
    for (let run = 1; run <= FAULT_RUNS; run += 1) {
      const fromRunMs = Date.now()
      const proxy = await startFaultProxy(server.url)
      const doc = await createDoc()
      const alice = await newActor('Alice', { baseURL: proxy.url })
      await installPageWatch(alice.page)
      const typist = new Typist(alice.page)
      try {
        await alice.open(doc.editUrl)
        await alice.editor.placeCaretAtEnd()
        await typist.type(1, 'B')
        await alice.editor.waitSaved()
        await expect.poll(() => serverText(doc.id, doc.editToken)).toBe(typist.text())

        const fromMs = Date.now()
        typist.prefix = 'D'
        const restoredAtMs = await fault.inflict({ proxy, server, typist })
        const after = await typist.type(1, 'A')
        await waitSavedWith(alice.page, after, restoredAtMs + RECOVERY_TIMEOUT_MS - Date.now())
        record(testInfo, fault.name, run, Date.now() - restoredAtMs)
        await fault.verify({ proxy, server, typist }, alice.page, { fromMs, toMs: restoredAtMs })

        const expected = typist.text()
        await expect.poll(() => serverText(doc.id, doc.editToken)).toBe(expected)
        const stored = await serverText(doc.id, doc.editToken)
        for (const piece of typist.pieces) expect(stored.split(piece), `${piece} stored once`).toHaveLength(2)
        await expect.poll(() => alice.editor.text()).toBe(expected)
        const watch = await readPageWatch(alice.page)
        expect(watch.refusals, 'refusal banners shown').toEqual([])
        expect(watch.nonEditable, 'moments the editor was not editable').toEqual([])
      } finally {
        await attachRun(testInfo, run, alice.page, proxy)
        console.log(`SERVER ${fault.name} run ${run}: ${connectionEnds(server.logs(), fromRunMs)}`)
        await alice.close()
        await proxy.close()
      }
    }
  })
}

test.afterAll(() => {
  if (recoveries.size === 0) return
  const rows = [...recoveries].map(([name, times]) => {
    const sorted = [...times].sort((a, b) => a - b)
    const middle = (sorted.length - 1) / 2
    const median = Math.round(((sorted[Math.floor(middle)] ?? 0) + (sorted[Math.ceil(middle)] ?? 0)) / 2)
    return `| ${name.padEnd(10)} | ${String(sorted.length).padStart(4)} | ${String(median).padStart(9)} | ${String(sorted.at(-1) ?? 0).padStart(6)} |`
  })
  const header = '| fault      | runs | median ms | max ms |\n|------------|------|-----------|--------|'
  console.log(`Recovery: network back → "Saved"\n${header}\n${rows.join('\n')}`)
})

/**
 * Waits, every animation frame, for "Saved" while connected with `piece` in the editor, so the
 * time is measured to a frame and a "Saved" left over from before the piece does not count. On
 * timeout the error tells what the page went through instead.
 */
async function waitSavedWith(page: Page, piece: string, timeoutMs: number): Promise<void> {
  try {
    await page.waitForFunction(
      (text) =>
        document.querySelector('[data-testid="save-state"]')?.textContent === 'Saved' &&
        document.querySelector('[data-testid="connection-state"]')?.getAttribute('data-state') ===
          'connected' &&
        document.querySelector('.ProseMirror')?.textContent?.includes(text) === true,
      piece,
      { polling: 'raf', timeout: Math.max(1, timeoutMs) },
    )
  } catch (error) {
    const { timeline } = await readPageWatch(page)
    const startMs = timeline[0]?.atMs ?? 0
    const steps = timeline
      .slice(-12)
      .map((entry) => `+${entry.atMs - startMs}ms ${entry.state}/${entry.save}`)
    throw new Error(`not "Saved" with ${piece} in time; the page's last states: ${steps.join(' → ')}`, {
      cause: error,
    })
  }
}

/** Types pieces until `until` settles (a server starting); resolves when it did. */
async function typeWhile(typist: Typist, until: Promise<void>): Promise<number> {
  let isDone = false
  const done = until.then(() => {
    isDone = true
    return Date.now()
  })
  while (!isDone) await typist.type(1)
  return done
}

/**
 * Types numbered pieces, `[B1]`, `[D1]`, `[D2]`, … at the caret and remembers them; the brackets
 * keep `[D1]` from being found inside `[D12]`, so "exactly once" is checked by splitting.
 */
class Typist {
  readonly pieces: string[] = []
  prefix = 'B'

  constructor(private readonly page: Page) {}

  /** Types `count` pieces; returns the last. */
  async type(count: number, prefix = this.prefix): Promise<string> {
    let piece = ''
    for (let i = 0; i < count; i += 1) {
      piece = `[${prefix}${this.pieces.filter((p) => p.startsWith(`[${prefix}`)).length + 1}]`
      await this.page.keyboard.type(piece, { delay: KEY_DELAY_MS })
      this.pieces.push(piece)
    }
    return piece
  }

  /** Types whole pieces for `durationMs`: the length of the fault, not a guess at an outcome. */
  async typeFor(durationMs: number): Promise<void> {
    const endMs = Date.now() + durationMs
    while (Date.now() < endMs) await this.type(1)
  }

  text(): string {
    return this.pieces.join('')
  }
}

function record(testInfo: TestInfo, fault: string, run: number, recoveryMs: number): void {
  recoveries.set(fault, [...(recoveries.get(fault) ?? []), recoveryMs])
  testInfo.annotations.push({
    type: 'METRIC',
    description: `fault_recovery_ms{${fault},run=${run}}=${recoveryMs}`,
  })
  console.log(`METRIC fault_recovery_ms{fault=${fault},run=${run}}=${recoveryMs}ms`)
}

async function attachRun(testInfo: TestInfo, run: number, page: Page, proxy: FaultProxy): Promise<void> {
  const watch = await readPageWatch(page).catch((error: unknown) => String(error))
  const body = JSON.stringify({ counts: proxy.counts, watch }, null, 2)
  await testInfo.attach(`run-${run}.json`, { body, contentType: 'application/json' })
}
