import type { Locator, Page } from '@playwright/test'

/** One entry of "Your documents": a document this browser has opened, with its live state (R27). */
export class DocEntry {
  /** Who is editing now: names joined by ", ", or "nobody". */
  readonly editors: Locator
  /** e.g. "2 viewing". */
  readonly viewers: Locator
  /** The last change; its `datetime` attribute is the server's `updatedAt`. */
  readonly updated: Locator
  /** Why the entry could not be refreshed; absent while refreshes succeed. */
  readonly error: Locator

  constructor(readonly root: Locator) {
    this.editors = root.getByTestId('doc-editors')
    this.viewers = root.getByTestId('doc-viewers')
    this.updated = root.getByTestId('doc-updated')
    this.error = root.getByTestId('doc-error')
  }
}

/** The start page at `/`. */
export class HomePage {
  readonly newDocumentButton: Locator
  readonly openInput: Locator
  readonly openButton: Locator
  readonly openError: Locator
  readonly recentDocs: Locator

  constructor(readonly page: Page) {
    this.newDocumentButton = page.getByRole('button', { name: 'New document' })
    this.openInput = page.getByLabel('Open by id or link')
    this.openButton = page.getByRole('button', { name: 'Open', exact: true })
    this.openError = page.locator('#open-doc-error')
    this.recentDocs = page.getByTestId('recent-docs').getByTestId('doc-entry')
  }

  async goto(): Promise<void> {
    await this.page.goto('/')
  }

  async open(idOrLink: string): Promise<void> {
    await this.openInput.fill(idOrLink)
    await this.openButton.click()
  }

  /** The entry for `docId` in "Your documents" (the documents this browser has opened). */
  recentDoc(docId: string): Locator {
    return this.page.locator(`[data-testid="doc-entry"][data-doc-id="${docId}"]`)
  }

  /** The same entry, with its live-state parts. */
  docEntry(docId: string): DocEntry {
    return new DocEntry(this.recentDoc(docId))
  }
}
