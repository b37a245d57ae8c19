/**
 * Keystroke-to-screen latency for a read-only viewer: an editor page types one character every
 * 100 ms; a viewer page (view link, SSE) timestamps each change of its rendered text. Both pages
 * run in one headless Chromium, so they share a clock. Needs the built client (`npm run build`).
 *
 *   npx tsx bench/viewer-latency.ts [keystrokes=100] [transport=sse]
 */
import { existsSync } from 'node:fs'
import { chromium } from '@playwright/test'
import { createDoc, percentile, startTandem } from './support/server.ts'

const KEYSTROKES = Number(process.argv[2] ?? 100)
const VIEWER_TRANSPORT = process.argv[3] ?? 'sse'
const SYSTEM_CHROMIUM = '/usr/bin/chromium'

const server = await startTandem()
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
  const doc = await createDoc(server.url)
  const editor = await (await browser.newContext()).newPage()
  const viewer = await (await browser.newContext()).newPage()
  await editor.goto(`${server.url}/d/${doc.id}?k=${doc.editToken}&name=Ed`)
  await viewer.goto(`${server.url}/v/${doc.id}?k=${doc.viewToken}&name=Vi&transport=${VIEWER_TRANSPORT}`)
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
    {
      timeout: 30_000,
    },
  )
  const keys = await editor.evaluate(() => (window as unknown as { __keys: number[] }).__keys)
  const seen = await viewer.evaluate(() => (window as unknown as { __seen: number[] }).__seen)
  const latencies = keys.map((at, i) => (seen[i] ?? NaN) - at)
  console.log(
    JSON.stringify({
      viewerTransport: VIEWER_TRANSPORT,
      keystrokes: latencies.length,
      p50Ms: Number(percentile(latencies, 50).toFixed(1)),
      p95Ms: Number(percentile(latencies, 95).toFixed(1)),
      maxMs: Number(Math.max(...latencies).toFixed(1)),
    }),
  )
} finally {
  await browser.close()
  await server.stop()
}
