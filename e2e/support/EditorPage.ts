import { expect, type Locator, type Page } from '@playwright/test'

const CARET = '.collaboration-carets__caret'
const CARET_LABEL = '.collaboration-carets__label'

/** The document editor at `/d/<docId>`, as one user sees it. */
export class EditorPage {
  readonly content: Locator
  readonly saveState: Locator
  readonly connectionState: Locator
  readonly transport: Locator
  readonly statusBadge: Locator
  readonly presenceUsers: Locator

  constructor(readonly page: Page) {
    this.content = page.locator('.ProseMirror')
    this.saveState = page.getByTestId('save-state')
    this.connectionState = page.getByTestId('connection-state')
    this.transport = page.getByTestId('transport')
    this.statusBadge = page.getByTestId('status-badge')
    this.presenceUsers = page.getByTestId('presence-list').getByTestId('presence-user')
  }

  /** Opens the document as `name` (skipping the name prompt) and waits for the first sync. */
  async goto(docId: string, name: string): Promise<void> {
    await this.page.goto(`/d/${docId}?name=${encodeURIComponent(name)}`)
    await this.waitSynced()
  }

  async waitSynced(): Promise<void> {
    await expect(this.connectionState).toHaveAttribute('data-state', 'connected')
    await expect(this.statusBadge).toHaveAttribute('data-synced', 'true')
  }

  /** Types at the caret, like a person (one key event per character). */
  async type(text: string, options: { delayMs?: number } = {}): Promise<void> {
    await this.page.keyboard.type(text, { delay: options.delayMs ?? 0 })
  }

  /** Puts the caret at the end of the document's `index`-th top-level block (0-based). */
  async placeCaretAtEndOfBlock(index: number): Promise<void> {
    await this.content.locator(':scope > *').nth(index).click()
    await this.page.keyboard.press('End')
  }

  /** Puts the caret at the very end of the document. */
  async placeCaretAtEnd(): Promise<void> {
    await this.content.click()
    await this.page.keyboard.press('ControlOrMeta+End')
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

  /** Names on the other people's carets shown in this editor, sorted. */
  async caretNames(): Promise<string[]> {
    const names = await this.content.locator(CARET_LABEL).allTextContents()
    return names.sort()
  }

  /** Names in the presence list, as shown (you first). */
  async presenceNames(): Promise<string[]> {
    return this.presenceUsers.locator('.presence-name').allTextContents()
  }

  async waitSaved(): Promise<void> {
    await expect(this.saveState).toHaveText('Saved')
  }
}
