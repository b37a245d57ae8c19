import { setTimeout as pause } from 'node:timers/promises'
import { expect, test } from '../support/fixtures.ts'
import { installPageWatch, readPageWatch } from '../support/pageWatch.ts'
import { startStockWriter, type StockVersion } from '../support/stockClients.ts'

/** STOCK_TYPING_MS=600000 soaks for ten minutes; 60 s by default. */
const TYPING_MS = Math.max(1_000, Number(process.env['STOCK_TYPING_MS'] ?? '60000'))
/** A stock writer's pace: one piece every 80–200 ms, about a fast typist's words. */
const STOCK_PACE_MS = { min: 80, max: 200 }
const EDITOR_KEY_DELAY_MS = 30
/** Convergence after the typing stops, and presence after joining: a few round trips. */
const SETTLE_TIMEOUT_MS = 20_000
const VERSIONS: readonly StockVersion[] = ['y-websocket 3.x', 'y-websocket 2.x']

for (const version of VERSIONS) {
  test.describe(version, () => {
    test(`[R1][R4][R11][R32] ${version}: a stock client with presence and another that types both stay connected and converge`, async ({
      server,
      createDoc,
      serverText,
    }) => {
      const doc = await createDoc()
      const options = { wsUrl: wsUrlOf(server.url), docId: doc.id, editToken: doc.editToken, version }
      const ada = startStockWriter('Ada', options)
      const bob = startStockWriter('Bob', options)
      try {
        await expect.poll(() => [ada.syncState(), bob.syncState()]).toEqual(['synced', 'synced'])
        // Ada's state reaches Bob, whose provider echoes it back to the server, as stock ones do.
        await expect.poll(() => bob.presenceNames()).toEqual(['Ada', 'Bob'])
        bob.startLine('Bob:')
        const pieces = Array.from({ length: 20 }, (_, i) => `[b${i + 1}]`)
        for (const piece of pieces) {
          bob.type(piece)
          ada.provider.awareness.setLocalStateField('cursor', { at: piece })
          await pause(20) // typing pace, not a wait for an outcome
        }
        const expected = `Bob:${pieces.join('')}`
        await expect.poll(() => ada.text(), { timeout: SETTLE_TIMEOUT_MS }).toBe(expected)
        await expect.poll(() => serverText(doc.id, doc.editToken)).toBe(expected)
        await expect.poll(() => ada.presenceNames()).toEqual(['Ada', 'Bob'])
        expect(
          { Ada: ada.incidentSummary(), Bob: bob.incidentSummary() },
          'closes, errors, disconnects',
        ).toEqual({
          Ada: [],
          Bob: [],
        })
        expect(ada.provider.wsconnected && bob.provider.wsconnected).toBe(true)
      } finally {
        ada.destroy()
        bob.destroy()
      }
    })

    test(`[R1][R4][R21][R32] ${version}: three stock writers with presence, a Tandem editor and a viewer type for ${TYPING_MS / 1000} s: all converge, nobody closed, presence agrees`, async ({
      server,
      createDoc,
      serverText,
      newActor,
    }) => {
      test.setTimeout(TYPING_MS + 120_000)
      const doc = await createDoc()
      const tara = await newActor('Tara')
      await installPageWatch(tara.page)
      await tara.open(doc.editUrl)
      await tara.editor.placeCaretAtEnd()
      await tara.editor.type('Tara:')
      await expect.poll(() => serverText(doc.id, doc.editToken)).toBe('Tara:')
      const vera = await newActor('Vera')
      await vera.view(doc.viewUrl)

      const options = { wsUrl: wsUrlOf(server.url), docId: doc.id, editToken: doc.editToken, version }
      const stock = ['S1', 'S2', 'S3'].map((name) => startStockWriter(name, options))
      try {
        await expect
          .poll(() => stock.map((writer) => writer.syncState()))
          .toEqual(['synced', 'synced', 'synced'])
        for (const writer of stock) writer.startLine(`${writer.name}:`)
        const writers = ['S1', 'S2', 'S3', 'Tara']
        const checkPresence = async (): Promise<void> => {
          for (const writer of stock) {
            await expect
              .poll(() => writer.presenceNames(), {
                timeout: SETTLE_TIMEOUT_MS,
                message: `${writer.name} sees`,
              })
              .toEqual([...writers, 'viewer:Vera'])
          }
          await expect.poll(() => tara.editor.presenceNames()).toEqual(['Tara', 'S1', 'S2', 'S3'])
          await expect.poll(() => vera.viewer.presenceNames()).toEqual(writers)
          await expect(tara.editor.viewerCount).toHaveAttribute('title', 'Viewing: Vera')
        }
        await checkPresence()

        const endMs = Date.now() + TYPING_MS
        const typed = new Map<string, string[]>(writers.map((name) => [name, []]))
        const piece = (name: string): string => {
          const pieces = typed.get(name)!
          const next = `[${name}-${pieces.length + 1}]`
          pieces.push(next)
          return next
        }
        await Promise.all([
          ...stock.map(async (writer) => {
            while (Date.now() < endMs) {
              writer.type(piece(writer.name))
              // A person's pace between keystrokes, not a guess at an outcome.
              await pause(STOCK_PACE_MS.min + Math.random() * (STOCK_PACE_MS.max - STOCK_PACE_MS.min))
            }
          }),
          (async () => {
            while (Date.now() < endMs) {
              await tara.editor.type(piece('Tara'), { delayMs: EDITOR_KEY_DELAY_MS })
            }
          })(),
        ])

        const expectedLines = writers.map((name) => `${name}:${typed.get(name)!.join('')}`).sort()
        const snapshot = async (): Promise<Record<string, string>> => ({
          server: await serverText(doc.id, doc.editToken),
          editor: await tara.editor.text(),
          viewer: await vera.viewer.text(),
          ...Object.fromEntries(stock.map((writer) => [writer.name, writer.text()])),
        })
        await expect
          .poll(async () => new Set(Object.values(await snapshot())).size, { timeout: SETTLE_TIMEOUT_MS })
          .toBe(1)
        const { server: stored = '' } = await snapshot()
        expect(
          stored
            .split('\n')
            .filter((line) => line !== '')
            .sort(),
        ).toEqual(expectedLines)

        await checkPresence()
        const incidents = Object.fromEntries(stock.map((writer) => [writer.name, writer.incidentSummary()]))
        expect(incidents, 'closes, errors, disconnects of stock clients').toEqual({ S1: [], S2: [], S3: [] })
        expect(stock.every((writer) => writer.provider.wsconnected)).toBe(true)
        await tara.editor.waitSaved()
        const watch = await readPageWatch(tara.page)
        expect(watch.refusals, "refusal banners on Tara's page").toEqual([])
        expect(watch.nonEditable, "moments Tara's editor was not editable").toEqual([])
      } finally {
        for (const writer of stock) writer.destroy()
      }
    })
  })
}

/** `http://localhost:1234` → `ws://127.0.0.1:1234/ws`: the server listens on IPv4. */
function wsUrlOf(httpUrl: string): string {
  const url = new URL('/ws', httpUrl)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  if (url.hostname === 'localhost') url.hostname = '127.0.0.1'
  return url.toString()
}
