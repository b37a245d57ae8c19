import type { TestInfo } from '@playwright/test'
import { withName } from '../support/DocumentSurface.ts'
import type { EditorPage } from '../support/EditorPage.ts'
import { expect, test } from '../support/fixtures.ts'

/**
 * Probes of a blocked primary back off up to 60 s apart (R26), so after upgrades are allowed the
 * next probe may be that far off, plus its 3 s first-message timeout.
 */
const SWITCH_BACK_TIMEOUT_MS = 90_000
/** Slow enough that the two people's keystrokes interleave on the wire. */
const KEY_DELAY_MS = 25
/** Pieces each person types after the switch, so edits also travel over the new WebSocket. */
const PIECES_AFTER_SWITCH = 3

test('[R26] an editor behind a proxy that blocks WebSockets co-edits over long polling with an editor on WebSocket, then moves back to WebSocket when upgrades are allowed, with no lost edit', async ({
  createDoc,
  newActor,
  startProxy,
  serverText,
}, testInfo) => {
  test.setTimeout(SWITCH_BACK_TIMEOUT_MS + 90_000)
  const proxy = await startProxy({ blockUpgrades: true })
  const doc = await createDoc()
  const alice = await newActor('Alice', { baseURL: proxy.url })
  const bob = await newActor('Bob')

  const openedAtMs = Date.now()
  await alice.page.goto(withName(doc.editUrl, 'Alice'))
  await alice.editor.waitSyncedOver('Long polling')
  recordMetric(testInfo, 'editor_blocked_ws_to_longpoll_synced_ms', Date.now() - openedAtMs)
  expect(proxy.counts.refusedUpgrades).toBeGreaterThan(0)
  await bob.open(doc.editUrl)
  await expect(bob.editor.transport).toHaveText('WebSocket')

  // One line each, so each person types at their own place and each piece stays in one piece.
  await alice.editor.placeCaretAtEnd()
  await alice.editor.type('Alice:')
  await alice.page.keyboard.press('Enter')
  await alice.editor.type('Bob:')
  await expect.poll(() => bob.editor.text()).toBe('Alice:\nBob:')
  await alice.editor.placeCaretAtEndOfBlock(0)
  await bob.editor.placeCaretAtEndOfBlock(1)

  const aliceTypes = new Typist(alice.editor, 'a')
  const bobTypes = new Typist(bob.editor, 'b')
  await Promise.all([aliceTypes.type(5), bobTypes.type(5)])
  const beforeSwitch = expectedText(aliceTypes.pieces, bobTypes.pieces)
  await expect.poll(() => alice.editor.text()).toBe(beforeSwitch)
  await expect.poll(() => bob.editor.text()).toBe(beforeSwitch)
  await expect(alice.editor.transport).toHaveText('Long polling')

  // Both keep typing while Alice's background probe finds the way open and her page switches.
  proxy.set({ blockUpgrades: false })
  const allowedAtMs = Date.now()
  let isSwitched = false
  const switched = expect(alice.editor.transport)
    .toHaveText('WebSocket', { timeout: SWITCH_BACK_TIMEOUT_MS })
    .finally(() => {
      isSwitched = true
    })
  await Promise.all([
    switched.then(() => recordMetric(testInfo, 'editor_longpoll_to_websocket_ms', Date.now() - allowedAtMs)),
    aliceTypes.typeUntil(() => isSwitched),
    bobTypes.typeUntil(() => isSwitched),
  ])
  await Promise.all([aliceTypes.type(PIECES_AFTER_SWITCH), bobTypes.type(PIECES_AFTER_SWITCH)])
  expect(proxy.counts.upgrades).toBeGreaterThan(0)
  // A connection the server turned away (e.g. an edit it refused) would strand the edits after it.
  await expect(alice.editor.connectionState).toHaveAttribute('data-state', 'connected')
  await expect(bob.editor.connectionState).toHaveAttribute('data-state', 'connected')

  const expected = expectedText(aliceTypes.pieces, bobTypes.pieces)
  await expect.poll(() => alice.editor.text()).toBe(expected)
  await expect.poll(() => bob.editor.text()).toBe(expected)
  await expect.poll(() => serverText(doc.id, doc.editToken)).toBe(expected)
  const stored = await serverText(doc.id, doc.editToken)
  for (const piece of [...aliceTypes.pieces, ...bobTypes.pieces]) {
    expect(stored.split(piece), `${piece} is stored exactly once`).toHaveLength(2)
  }
  await alice.editor.waitSaved()
  await bob.editor.waitSaved()
  await expect(alice.editor.transport).toHaveText('WebSocket')
})

test('[R26] a viewer behind a proxy that buffers event streams still sees live edits', async ({
  createDoc,
  newActor,
  startProxy,
}, testInfo) => {
  const proxy = await startProxy({ bufferEventStreams: true })
  const doc = await createDoc()
  const alice = await newActor('Alice')
  const victor = await newActor('Victor', { baseURL: proxy.url })
  await alice.open(doc.editUrl)

  const openedAtMs = Date.now()
  await victor.viewer.open(doc.viewUrl, 'Victor')
  await victor.viewer.waitSyncedOver('Long polling')
  recordMetric(testInfo, 'viewer_buffered_sse_to_longpoll_synced_ms', Date.now() - openedAtMs)
  expect(proxy.counts.bufferedStreams).toBeGreaterThan(0)
  await expect(victor.viewer.readOnlyBadge).toBeVisible()
  await expect(victor.viewer.content).toHaveAttribute('contenteditable', 'false')
  await expect(alice.editor.viewerCount).toHaveAttribute('title', 'Viewing: Victor')

  await alice.editor.placeCaretAtEnd()
  await alice.editor.type('Seen through a buffering proxy.')
  await expect.poll(() => victor.viewer.text()).toBe('Seen through a buffering proxy.')
  await expect.poll(() => victor.viewer.caretNames()).toEqual(['Alice'])

  const typedAtMs = Date.now()
  await alice.editor.type(' Live.')
  await victor.page.waitForFunction(
    () => document.querySelector('.ProseMirror')?.textContent?.includes('Live.') === true,
    undefined,
    { polling: 'raf' },
  )
  recordMetric(testInfo, 'viewer_longpoll_edit_latency_ms', Date.now() - typedAtMs)
  await expect.poll(() => victor.viewer.text()).toBe('Seen through a buffering proxy. Live.')
  // Probes of the event stream keep failing behind this proxy, so the viewer stays on long polling.
  await expect(victor.viewer.transport).toHaveText('Long polling')
})

test('[R26] ?transport= pins a page to one transport, with no fallback, and stays in the address', async ({
  createDoc,
  newActor,
  startProxy,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  const bob = await newActor('Bob')
  const victor = await newActor('Victor')
  await alice.open(`${doc.editUrl}&transport=longpoll`)
  await expect(alice.editor.transport).toHaveText('Long polling')
  expect(new URL(alice.page.url()).searchParams.get('transport')).toBe('longpoll')
  await bob.open(`${doc.editUrl}&transport=poll`)
  await expect(bob.editor.transport).toHaveText('Polling')
  await victor.view(`${doc.viewUrl}&transport=websocket`)
  await expect(victor.viewer.transport).toHaveText('WebSocket')

  await alice.editor.placeCaretAtEnd()
  await alice.editor.type('Long polling.')
  await expect.poll(() => bob.editor.text()).toBe('Long polling.')
  await bob.editor.placeCaretAtEnd()
  await bob.editor.type(' Short polling.')
  await expect.poll(() => alice.editor.text()).toBe('Long polling. Short polling.')
  await expect.poll(() => victor.viewer.text()).toBe('Long polling. Short polling.')

  // Anything else is ignored: the automatic choice.
  const carol = await newActor('Carol')
  await carol.open(`${doc.editUrl}&transport=carrier-pigeon`)
  await expect(carol.editor.transport).toHaveText('WebSocket')

  // Pinned to WebSocket behind a proxy that refuses upgrades, the page keeps retrying WebSocket.
  const proxy = await startProxy({ blockUpgrades: true })
  const dave = await newActor('Dave', { baseURL: proxy.url })
  await dave.page.goto(withName(`${doc.editUrl}&transport=websocket`, 'Dave'))
  await expect.poll(() => proxy.counts.refusedUpgrades).toBeGreaterThanOrEqual(3)
  await expect(dave.editor.transport).toHaveText('WebSocket')
  await expect(dave.editor.statusBadge).toHaveAttribute('data-synced', 'false')
})

/**
 * Types numbered pieces, `[a1]`, `[a2]`, … at the caret and remembers them; the brackets keep
 * `[a1]` from being found inside `[a12]`, so "exactly once" can be checked by splitting.
 */
class Typist {
  readonly pieces: string[] = []

  constructor(
    private readonly editor: EditorPage,
    private readonly prefix: string,
  ) {}

  async type(count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      const piece = `[${this.prefix}${this.pieces.length + 1}]`
      await this.editor.type(piece, { delayMs: KEY_DELAY_MS })
      this.pieces.push(piece)
    }
  }

  /** One piece after another until `isDone()`; a piece is always typed whole. */
  async typeUntil(isDone: () => boolean): Promise<void> {
    while (!isDone()) await this.type(1)
  }
}

function expectedText(alicePieces: readonly string[], bobPieces: readonly string[]): string {
  return `Alice:${alicePieces.join('')}\nBob:${bobPieces.join('')}`
}

/** A measured duration: shown in the report as an annotation and on stdout as `METRIC name=value`. */
function recordMetric(testInfo: TestInfo, name: string, valueMs: number): void {
  testInfo.annotations.push({ type: 'METRIC', description: `${name}=${valueMs}` })
  console.log(`METRIC ${name}=${valueMs}ms`)
}
