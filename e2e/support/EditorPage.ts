import { expect, type Locator, type Page } from '@playwright/test'
import { DocumentSurface, withName } from './DocumentSurface.ts'

/** The two absolute links the share dialog shows. */
export interface SharedLinks {
  readonly editLink: string
  readonly viewLink: string
}

/** The document editor at `/d/<docId>?k=<editToken>`, as one user sees it. */
export class EditorPage extends DocumentSurface {
  readonly saveState: Locator
  readonly shareButton: Locator
  readonly shareDialog: Locator
  readonly shareEditLink: Locator
  readonly shareViewLink: Locator
  /** The bubble menu over selected text (R59). */
  readonly selectionMenu: Locator
  /** The menu under the table the caret is in (R59). */
  readonly tableMenu: Locator
  readonly linkEditor: Locator
  readonly imageDialog: Locator
  readonly shortcutSheet: Locator
  /** The title field in the header (R60). */
  readonly titleField: Locator
  /** The header's "Document" menu button and its menu (R61). */
  readonly documentMenuButton: Locator
  readonly documentMenu: Locator

  constructor(page: Page) {
    super(page)
    this.saveState = page.getByTestId('save-state')
    this.shareButton = page.getByTestId('share-button')
    this.shareDialog = page.getByTestId('share-dialog')
    this.shareEditLink = page.getByTestId('share-edit-link')
    this.shareViewLink = page.getByTestId('share-view-link')
    this.selectionMenu = page.getByRole('toolbar', { name: 'Selected text' })
    this.tableMenu = page.getByRole('toolbar', { name: 'Table' })
    this.linkEditor = page.getByTestId('link-editor')
    this.imageDialog = page.getByTestId('image-dialog')
    this.shortcutSheet = page.getByTestId('shortcut-sheet')
    this.titleField = page.getByRole('textbox', { name: 'Document title' })
    this.documentMenuButton = page.getByTestId('document-menu-button')
    this.documentMenu = page.getByRole('menu', { name: 'Document' })
  }

  /** Opens an edit link as `name` (skipping the name prompt) and waits for the first sync. */
  async goto(editLink: string, name: string): Promise<void> {
    await this.page.goto(withName(editLink, name))
    await this.waitSynced()
  }

  /** Opens the "Document" menu and picks `item` (R61). */
  async documentAction(item: string): Promise<void> {
    await this.documentMenuButton.click()
    await this.documentMenu.getByRole('menuitem', { name: item }).click()
  }

  /** Types at the caret, like a person (one key event per character). */
  async type(text: string, options: { delayMs?: number } = {}): Promise<void> {
    await this.page.keyboard.type(text, { delay: options.delayMs ?? 0 })
  }

  /** Puts the caret at the end of the document's `index`-th top-level block (0-based). */
  async placeCaretAtEndOfBlock(index: number): Promise<void> {
    const block = this.content.locator(':scope > *').nth(index)
    // A click can land on a collaborator's caret label (not editable text) and leave the caret
    // elsewhere: placed again until it is at the block's end.
    await expect(async () => {
      await block.click()
      await this.page.keyboard.press('End')
      expect(await block.evaluate(isCaretAtEnd)).toBe(true)
    }).toPass({ timeout: 10_000 })
  }

  /** Puts the caret at the very end of the document. */
  async placeCaretAtEnd(): Promise<void> {
    await this.content.click()
    await this.page.keyboard.press('ControlOrMeta+End')
  }

  async waitSaved(): Promise<void> {
    await expect(this.saveState).toHaveText('Saved')
  }

  /** Opens the share dialog and reads both links once they have loaded. */
  async openShare(): Promise<SharedLinks> {
    await this.shareButton.click()
    await expect(this.shareDialog).toBeVisible()
    return this.sharedLinks()
  }

  async closeShare(): Promise<void> {
    await this.shareDialog.getByRole('button', { name: 'Close' }).click()
    await expect(this.shareDialog).toBeHidden()
  }

  /** "Reset links" in the share dialog, confirmed; returns the new links and closes the dialog. */
  async resetLinks(): Promise<SharedLinks> {
    const before = await this.openShare()
    await this.page.getByTestId('share-reset').click()
    await this.page.getByTestId('share-reset-confirm').click()
    await expect(this.shareEditLink).not.toHaveValue(before.editLink)
    const after = await this.sharedLinks()
    await this.closeShare()
    return after
  }

  /** A button of the formatting toolbar, by its accessible name ("Bold", "Heading 1"…). */
  formatButton(name: string): Locator {
    return this.formatToolbar.getByRole('button', { name, exact: true })
  }

  /**
   * Ctrl+K (⌘K on a Mac) in the text, the address typed into the link editor and submitted.
   * Returns with the editor still open if the address was refused.
   */
  async linkSelection(address: string): Promise<void> {
    await this.page.keyboard.press('ControlOrMeta+k')
    await expect(this.linkEditor).toBeVisible()
    await this.linkEditor.getByLabel('Link', { exact: true }).fill(address)
    await this.linkEditor.getByLabel('Link', { exact: true }).press('Enter')
  }

  /** Inserts an image at the caret through the toolbar's image dialog. */
  async insertImage(address: string, description: string): Promise<void> {
    await this.formatButton('Image').click()
    await expect(this.imageDialog).toBeVisible()
    await this.imageDialog.getByLabel('Image address').fill(address)
    await this.imageDialog.getByLabel('Description (alt text)').fill(description)
    await this.imageDialog.getByRole('button', { name: 'Insert image' }).click()
  }

  /** Selects the text of the document's `index`-th top-level block (0-based), as a person would. */
  async selectBlock(index: number): Promise<void> {
    await expect(async () => {
      await this.placeCaretAtEndOfBlock(index)
      await this.page.keyboard.press('Shift+Home')
      expect(await this.page.evaluate(() => String(window.getSelection()).trim())).not.toBe('')
    }).toPass({ timeout: 10_000 })
  }

  private async sharedLinks(): Promise<SharedLinks> {
    await expect(this.shareEditLink).toHaveValue(/^https?:\/\/.+\/d\/.+\?k=.+/)
    await expect(this.shareViewLink).toHaveValue(/^https?:\/\/.+\/v\/.+\?k=.+/)
    return {
      editLink: await this.shareEditLink.inputValue(),
      viewLink: await this.shareViewLink.inputValue(),
    }
  }
}

/** Whether the page's caret is collapsed inside `element` with no editable text after it. */
function isCaretAtEnd(element: Element): boolean {
  const selection = window.getSelection()
  const anchor = selection?.anchorNode
  if (!selection || !selection.isCollapsed || !anchor || !element.contains(anchor)) return false
  const rest = document.createRange()
  rest.selectNodeContents(element)
  rest.setStart(anchor, selection.anchorOffset)
  const after = rest.cloneContents()
  after.querySelectorAll('[contenteditable="false"]').forEach((label) => label.remove())
  return (after.textContent ?? '') === ''
}
