import type { Page } from '@playwright/test'
import { setTimeout as pause } from 'node:timers/promises'
import { expect, test } from '../support/clusterFixtures.ts'
import { withName } from '../support/DocumentSurface.ts'
import { installPageWatch, readPageWatch, statesBetween } from '../support/pageWatch.ts'
import { startStockWriter } from '../support/stockClients.ts'
import { miscounted, Typist } from '../support/typist.ts'

/** Slow enough that everyone's keystrokes interleave on the wire. */
const KEY_DELAY_MS = 25
const ALICE_WORDS = ' on one'
const BOB_WORDS = ' on two'
const LENA_WORDS = ' polls three'
const STAN_WORDS = [' stock', ' on', ' one']
const EDITORS = ['Alice', 'Bob', 'Lena', 'Stan']
/** A dropped connection is retried after up to 1 s of jitter (R12), then synced on another node. */
const RECONNECT_TIMEOUT_MS = 15_000

test('[R64][R65][R66] editors on nodes 1 and 2, an SSE viewer on node 3, a long-polling editor on node 3 and a stock y-websocket client on node 1 converge; carets, presence and the dashboard are cluster-wide', async ({
  cluster,
  createDoc,
  newActor,
  startProxyTo,
  nodeText,
  request,
}) => {
  const [one, two, three] = [cluster.node(0), cluster.node(1), cluster.node(2)]
  // WebSockets refused on the way to node 3: Lena's page falls back to long polling (R26).
  const [doc, proxy] = await Promise.all([createDoc(), startProxyTo(three.url, { blockUpgrades: true })])
  const alice = await newActor('Alice', { baseURL: one.url })
  const bob = await newActor('Bob', { baseURL: two.url })
  const vera = await newActor('Vera', { baseURL: three.url })
  const lena = await newActor('Lena', { baseURL: proxy.url })
  // One page after another: four pages booting at once on two cores can starve one past its
  // first-message timeout, and it would then (rightly) fall back to long polling.
  await alice.open(doc.editUrl)
  await bob.open(doc.editUrl)
  await vera.view(doc.viewUrl)
  await lena.page.goto(withName(doc.editUrl, 'Lena'))
  await lena.editor.waitSyncedOver('Long polling')
  expect(proxy.counts.refusedUpgrades).toBeGreaterThan(0)
  await expect(alice.editor.transport).toHaveText('WebSocket')
  await expect(bob.editor.transport).toHaveText('WebSocket')
  await expect(vera.viewer.transport).toHaveText('SSE')

  const stan = startStockWriter('Stan', {
    wsUrl: webSocketUrlOf(one.url),
    docId: doc.id,
    editToken: doc.editToken,
    version: 'y-websocket 3.x',
  })
  try {
    await expect.poll(() => stan.syncState()).toBe('synced')
    // One line each, so each person types at their own place and each input stays in one piece.
    await alice.editor.placeCaretAtEnd()
    await alice.editor.type('Alice:')
    await alice.page.keyboard.press('Enter')
    await alice.editor.type('Bob:')
    await alice.page.keyboard.press('Enter')
    await alice.editor.type('Lena:')
    await expect.poll(() => stan.text()).toBe('Alice:\nBob:\nLena:')
    stan.startLine('Stan:')
    await expect.poll(() => lena.editor.text()).toBe('Alice:\nBob:\nLena:\nStan:')
    await expect.poll(() => bob.editor.text()).toBe('Alice:\nBob:\nLena:\nStan:')

    await alice.editor.placeCaretAtEndOfBlock(0)
    await bob.editor.placeCaretAtEndOfBlock(1)
    await lena.editor.placeCaretAtEndOfBlock(2)
    await Promise.all([
      alice.editor.type(ALICE_WORDS, { delayMs: KEY_DELAY_MS }),
      bob.editor.type(BOB_WORDS, { delayMs: KEY_DELAY_MS }),
      lena.editor.type(LENA_WORDS, { delayMs: KEY_DELAY_MS }),
      (async () => {
        for (const word of STAN_WORDS) {
          stan.type(word)
          await pause(KEY_DELAY_MS * 4) // a typing pace, not a wait for an outcome
        }
      })(),
    ])

    const expected = `Alice:${ALICE_WORDS}\nBob:${BOB_WORDS}\nLena:${LENA_WORDS}\nStan:${STAN_WORDS.join('')}`
    for (const surface of [alice.editor, bob.editor, lena.editor, vera.viewer]) {
      await expect.poll(() => surface.text()).toBe(expected)
    }
    await expect.poll(() => stan.text()).toBe(expected)
    for (const node of cluster.nodes) {
      await expect.poll(() => nodeText(node.url, doc.id, doc.editToken), { message: node.url }).toBe(expected)
    }

    // Carets and presence of people on other nodes (R66).
    await expect.poll(() => alice.editor.caretNames()).toEqual(['Bob', 'Lena', 'Stan'])
    await expect.poll(() => bob.editor.caretNames()).toEqual(['Alice', 'Lena', 'Stan'])
    await expect.poll(() => lena.editor.caretNames()).toEqual(['Alice', 'Bob', 'Stan'])
    await expect.poll(() => vera.viewer.caretNames()).toEqual(EDITORS)
    for (const surface of [alice.editor, bob.editor, lena.editor, vera.viewer]) {
      await expect.poll(async () => (await surface.presenceNames()).sort()).toEqual(EDITORS)
    }
    await expect.poll(() => stan.presenceNames()).toEqual([...EDITORS, 'viewer:Vera'])
    await expect(alice.editor.viewerCount).toHaveAttribute('title', 'Viewing: Vera')
    await expect(bob.editor.viewerCount).toHaveAttribute('title', 'Viewing: Vera')

    // Who is here, as node 2 answers for the whole cluster (the home page's source, R27).
    await expect
      .poll(async () => {
        const response = await request.get(new URL(`/api/docs/${doc.id}`, two.url).toString(), {
          headers: { Authorization: `Bearer ${doc.viewToken}` },
        })
        const meta = (await response.json()) as DocPresence
        return { ...meta, editorNames: [...meta.editorNames].sort() }
      })
      .toMatchObject({ connections: 5, viewers: 1, editorNames: EDITORS, viewerNames: ['Vera'] })

    expect(stan.incidentSummary(), 'closes, errors, disconnects of the stock client').toEqual([])
  } finally {
    stan.destroy()
  }
})

test('[R64][R65][R66][R12] through a balancer: the node serving one of two typing people is SIGKILLed; her page reconnects to another node, keeps what she typed meanwhile, and every piece is stored once', async ({
  cluster,
  createDoc,
  newActor,
  nodeText,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  const bob = await newActor('Bob')
  await installPageWatch(alice.page)
  await alice.open(doc.editUrl)
  const [aliceSocket] = cluster.balancer.openWebSockets()
  await bob.open(doc.editUrl)
  const bobSocket = cluster.balancer.openWebSockets().find((socket) => socket !== aliceSocket)
  if (!aliceSocket || !bobSocket) throw new Error('the balancer saw no WebSocket of Alice or Bob')
  expect(bobSocket.backend, 'Alice and Bob are served by different nodes').not.toBe(aliceSocket.backend)

  await alice.editor.placeCaretAtEnd()
  await alice.editor.type('Alice:')
  await alice.page.keyboard.press('Enter')
  await alice.editor.type('Bob:')
  await expect.poll(() => bob.editor.text()).toBe('Alice:\nBob:')
  await alice.editor.placeCaretAtEndOfBlock(0)
  await bob.editor.placeCaretAtEndOfBlock(1)

  const aliceTypes = new Typist(alice.editor, 'a', KEY_DELAY_MS)
  const bobTypes = new Typist(bob.editor, 'b', KEY_DELAY_MS)
  let isAliceBack = false
  // Bob types throughout: before, during and after Alice's node dies.
  const bobTyping = bobTypes.typeUntil(() => isAliceBack)
  try {
    await aliceTypes.type(3)
    const killedAtMs = Date.now()
    await cluster.kill(aliceSocket.backend)
    // From here on her node is gone: these pieces go into a dead connection or none at all.
    const meanwhileFrom = aliceTypes.pieces.length
    await Promise.all([
      aliceTypes.typeUntil(() => isAliceBack),
      expect
        .poll(() => reconnection(alice.page, killedAtMs), { timeout: RECONNECT_TIMEOUT_MS })
        .toEqual({ hasShownReconnecting: true, now: 'connected' })
        .finally(() => {
          isAliceBack = true
        }),
    ])
    const meanwhile = aliceTypes.pieces.slice(meanwhileFrom)
    expect(meanwhile.length).toBeGreaterThan(0)
    expect(await alice.editor.text(), 'her page kept what she typed meanwhile').toContain(meanwhile.join(''))
  } finally {
    isAliceBack = true
    await bobTyping
  }

  await expect(alice.editor.transport).toHaveText('WebSocket')
  const sockets = cluster.balancer.openWebSockets()
  expect(sockets).toHaveLength(2)
  expect(sockets).toContain(bobSocket)
  const aliceNow = sockets.find((socket) => socket !== bobSocket)
  expect(aliceNow?.backend, 'Alice reconnected to another live node').not.toBe(aliceSocket.backend)
  expect(cluster.isUp(aliceNow?.backend ?? -1)).toBe(true)

  // And the edits of both keep flowing through the nodes that are left.
  await Promise.all([aliceTypes.type(2), bobTypes.type(2)])
  const expected = `Alice:${aliceTypes.pieces.join('')}\nBob:${bobTypes.pieces.join('')}`
  await expect.poll(() => alice.editor.text()).toBe(expected)
  await expect.poll(() => bob.editor.text()).toBe(expected)
  await alice.editor.waitSaved()
  await bob.editor.waitSaved()
  const live = cluster.nodes.filter((_, index) => cluster.isUp(index))
  for (const node of live) {
    await expect.poll(() => nodeText(node.url, doc.id, doc.editToken), { message: node.url }).toBe(expected)
  }
  const stored = await nodeText(live[0]?.url ?? '', doc.id, doc.editToken)
  expect(miscounted(stored, [...aliceTypes.pieces, ...bobTypes.pieces]), 'pieces not stored once').toEqual({})

  // Alice moved nodes under the same client id: one Alice, no ghost left by the dead node (R66).
  await expect.poll(() => bob.editor.presenceNames()).toEqual(['Bob', 'Alice'])
  await expect.poll(() => bob.editor.caretNames()).toEqual(['Alice'])
  await expect.poll(() => alice.editor.caretNames()).toEqual(['Bob'])
})

/** What `GET /api/docs/:id` says about who is in the document. */
interface DocPresence {
  readonly connections: number
  readonly viewers: number
  readonly editorNames: readonly string[]
  readonly viewerNames: readonly string[]
}

/** Whether the page has shown "reconnecting" since `sinceMs` (page clock = this machine's), and its state now. */
async function reconnection(
  page: Page,
  sinceMs: number,
): Promise<{ hasShownReconnecting: boolean; now?: string }> {
  const states = statesBetween(await readPageWatch(page), sinceMs, Date.now())
  return { hasShownReconnecting: states.includes('reconnecting'), now: states.at(-1) }
}

/** `http://localhost:1234` → `ws://127.0.0.1:1234/ws`: the server listens on IPv4. */
function webSocketUrlOf(httpUrl: string): string {
  const url = new URL('/ws', httpUrl)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  if (url.hostname === 'localhost') url.hostname = '127.0.0.1'
  return url.toString()
}
