import { expect, type Locator, type Page } from '@playwright/test'

const CARET = '.collaboration-carets__caret'
const CARET_LABEL = '.collaboration-carets__label'

/** What the editor and the viewer page share: the document, its header and the status badge. */
export class DocumentSurface {
  readonly content: Locator
  readonly connectionState: Locator
  readonly transport: Locator
  readonly statusBadge: Locator
  readonly presenceUsers: Locator
  readonly viewerCount: Locator
  /** The banner shown when the server turns the page away for good (e.g. a reset link). */
  readonly refusal: Locator
  /** The formatting toolbar above the text (R59): editors only. */
  readonly formatToolbar: Locator

  constructor(readonly page: Page) {
    // The live text, not a version opened read-only beside it (R62).
    this.content = page.locator('.editor-content:not(.history-version-content) .ProseMirror')
    this.connectionState = page.getByTestId('connection-state')
    this.transport = page.getByTestId('transport')
    this.statusBadge = page.getByTestId('status-badge')
    this.presenceUsers = page.getByTestId('presence-list').getByTestId('presence-user')
    this.viewerCount = page.getByTestId('viewer-count')
    this.refusal = page.getByTestId('refusal')
    this.formatToolbar = page.getByRole('toolbar', { name: 'Formatting' })
  }

  async waitSynced(): Promise<void> {
    await expect(this.connectionState).toHaveAttribute('data-state', 'connected')
    await expect(this.statusBadge).toHaveAttribute('data-synced', 'true')
  }

  /**
   * Waits until the page is synced over `transport` (the badge's label, e.g. "Long polling"),
   * checking every animation frame rather than at expect's widening intervals, so the time it took
   * can be measured to within a frame.
   */
  async waitSyncedOver(transport: string, options: { timeoutMs?: number } = {}): Promise<void> {
    await this.page.waitForFunction(
      (label) => {
        const badge = document.querySelector('[data-testid="status-badge"]')
        const connection = badge?.querySelector('[data-testid="connection-state"]')
        return (
          badge?.getAttribute('data-synced') === 'true' &&
          connection?.getAttribute('data-state') === 'connected' &&
          badge.querySelector('[data-testid="transport"]')?.textContent === label
        )
      },
      transport,
      { polling: 'raf', timeout: options.timeoutMs ?? 10_000 },
    )
  }

  async waitRefused(): Promise<void> {
    await expect(this.connectionState).toHaveAttribute('data-state', 'refused')
    await expect(this.refusal).toBeVisible()
  }

  /**
   * The document as plain text, one line per top-level block. Others' carets are widgets inside
   * the text (their labels hold names), so they are left out.
   */
  async text(): Promise<string> {
    return this.content.evaluate((root, caretSelector) => {
      const copy = root.cloneNode(true) as Element
      copy.querySelectorAll(caretSelector).forEach((caret) => caret.remove())
      return Array.from(copy.children, (block) => block.textContent ?? '').join('\n')
    }, CARET)
  }

  /** The text of each element matching `selector` in the document, others' carets left out. */
  async textsIn(selector: string): Promise<string[]> {
    return this.content.evaluate(
      (root, [elements, caretSelector]) =>
        Array.from(root.querySelectorAll(elements), (element) => {
          const copy = element.cloneNode(true) as Element
          copy.querySelectorAll(caretSelector).forEach((caret) => caret.remove())
          return copy.textContent ?? ''
        }),
      [selector, CARET] as const,
    )
  }

  /** Names on the other people's carets shown in this page, sorted. */
  async caretNames(): Promise<string[]> {
    const names = await this.content.locator(CARET_LABEL).allTextContents()
    return names.sort()
  }

  /** Names in the presence list, as shown (you first). */
  async presenceNames(): Promise<string[]> {
    return this.presenceUsers.locator('.presence-name').allTextContents()
  }
}

/** `link` (a site-relative document link) with `?name=`, which skips the name prompt. */
export function withName(link: string, name: string): string {
  const url = new URL(link, 'http://placeholder')
  url.searchParams.set('name', name)
  return `${url.pathname}${url.search}`
}
