import type { Page } from '@playwright/test'

/** What a document page showed over its whole life, recorded on every DOM change. */
export interface PageWatch {
  /** Texts of the refusal banner, each time it appeared. */
  readonly refusals: string[]
  /** Each time the editor was not editable (`contenteditable` other than true) or was removed. */
  readonly nonEditable: string[]
  /** Every change of the connection state or the save state, with the page's clock. */
  readonly timeline: Array<{ readonly atMs: number; readonly state: string; readonly save: string }>
}

declare global {
  interface Window {
    __tandemWatch?: PageWatch
  }
}

const MAX_TIMELINE = 1_000

/**
 * Records, from before the app's first script runs, what polling would miss: a MutationObserver
 * runs after every batch of DOM changes, so a banner or a read-only editor shown for a single
 * frame is caught. Must be installed before the page opens the document.
 */
export async function installPageWatch(page: Page): Promise<void> {
  await page.addInitScript((maxTimeline: number) => {
    const watch: PageWatch = { refusals: [], nonEditable: [], timeline: [] }
    window.__tandemWatch = watch
    let hasEditor = false
    let lastRefusal: string | null = null
    let lastKey = ''
    const record = (): void => {
      const refusal = document.querySelector('[data-testid="refusal"]')
      const refusalText = refusal === null ? null : (refusal.textContent ?? '')
      if (refusalText !== null && refusalText !== lastRefusal) watch.refusals.push(refusalText)
      lastRefusal = refusalText

      const editor = document.querySelector('.ProseMirror')
      const editable = editor?.getAttribute('contenteditable') ?? null
      if (editor !== null) hasEditor = true
      if (editor !== null && editable !== 'true') watch.nonEditable.push(`contenteditable=${editable}`)
      if (editor === null && hasEditor) watch.nonEditable.push('editor removed')

      const connection = document.querySelector('[data-testid="connection-state"]')
      const kind = connection?.getAttribute('data-state') ?? 'none'
      // The offline label counts down every second; only a refusal's label says something new.
      const state = kind === 'refused' ? (connection?.textContent ?? kind) : kind
      const save = document.querySelector('[data-testid="save-state"]')?.textContent ?? 'none'
      const key = `${state}|${save}`
      if (key !== lastKey && watch.timeline.length < maxTimeline) {
        watch.timeline.push({ atMs: Date.now(), state, save })
      }
      lastKey = key
    }
    new MutationObserver(record).observe(document, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    })
  }, MAX_TIMELINE)
}

export async function readPageWatch(page: Page): Promise<PageWatch> {
  const watch = await page.evaluate(() => window.__tandemWatch)
  if (watch === undefined) throw new Error('installPageWatch() was not called before the page opened')
  return watch
}

/** The connection states the page showed between two instants (by the page's clock), in order. */
export function statesBetween(watch: PageWatch, fromMs: number, toMs: number): string[] {
  const before = watch.timeline.filter((entry) => entry.atMs < fromMs).at(-1)
  const during = watch.timeline.filter((entry) => entry.atMs >= fromMs && entry.atMs <= toMs)
  return [...(before === undefined ? [] : [before]), ...during].map((entry) => entry.state)
}
