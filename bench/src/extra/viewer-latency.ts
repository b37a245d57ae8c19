/**
 * Keystroke-to-screen latency for a read-only viewer, in a real browser (not part of the suite): an
 * editor page types one character every 100 ms; a viewer page (view link, SSE by default)
 * timestamps each change of its rendered text. Both pages run in one headless Chromium, so they
 * share a clock. Needs the built client (`npm run build`) and Playwright from the root install.
 *
 *   node --import tsx bench/src/extra/viewer-latency.ts [keystrokes=100] [transport=sse]
 */
import { existsSync } from 'node:fs'
import { chromium } from '@playwright/test'
import { PeerProcess } from '../peers/PeerProcess.ts'
import { createRoom } from '../peers/rooms.ts'
import { summarize } from '../util/stats.ts'

const KEYSTROKES = Number(process.argv[2] ?? 100)
const VIEWER_TRANSPORT = process.argv[3] ?? 'sse'
const SYSTEM_CHROMIUM = '/usr/bin/chromium'

const server = await PeerProcess.start('tandem')
const browser = await chromium.launch({
  executablePath:
    process.env['TANDEM_CHROMIUM'] ?? (existsSync(SYSTEM_CHROMIUM) ? SYSTEM_CHROMIUM : undefined),
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
})
try {
  const doc = await createRoom(server, 'viewer')
  const editor = await (await browser.newContext()).newPage()
  const viewer = await (await browser.newContext()).newPage()
  await editor.goto(`${server.httpUrl}/d/${doc.docName}?k=${doc.editToken}&name=Ed`)
  await viewer.goto(
    `${server.httpUrl}/v/${doc.docName}?k=${doc.viewToken}&name=Vi&transport=${VIEWER_TRANSPORT}`,
  )
  await editor.locator('[data-synced="true"]').waitFor()
  await viewer.locator('[data-synced="true"]').waitFor()
  await editor.evaluate(() => {
    const times: number[] = []
    Object.assign(window, { __keys: times })
    document.addEventListener('keydown', () => times.push(performance.timeOrigin + performance.now()), true)
  })
  await viewer.evaluate(() => {
    const times: number[] = []
    Object.assign(window, { __seen: times })
    const target = document.querySelector('.ProseMirror')
    if (!target) throw new Error('no editor element')
    let length = 0
    new MutationObserver(() => {
      const now = performance.timeOrigin + performance.now()
      // Count only document text: caret labels hold names, not content.
      const clone = target.cloneNode(true) as HTMLElement
      for (const caret of clone.querySelectorAll('.collaboration-carets__caret')) caret.remove()
      const next = clone.textContent?.length ?? 0
      while (length < next) {
        times.push(now)
        length += 1
      }
    }).observe(target, { subtree: true, childList: true, characterData: true })
  })
  await editor.locator('.ProseMirror').click()
  await editor.keyboard.type('a'.repeat(KEYSTROKES), { delay: 100 })
  await viewer.waitForFunction(
    (n) => (window as unknown as { __seen: number[] }).__seen.length >= n,
    KEYSTROKES,
    { timeout: 30_000 },
  )
  const keys = await editor.evaluate(() => (window as unknown as { __keys: number[] }).__keys)
  const seen = await viewer.evaluate(() => (window as unknown as { __seen: number[] }).__seen)
  const summary = summarize(keys.map((at, i) => (seen[i] ?? NaN) - at))
  console.log(JSON.stringify({ viewerTransport: VIEWER_TRANSPORT, ...summary }))
} finally {
  await browser.close()
  await server.stop()
}
