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
  /** The title as the list shows it ("Untitled" when blank), a link that opens the document. */
  readonly title: Locator

  constructor(readonly root: Locator) {
    this.editors = root.getByTestId('doc-editors')
    this.viewers = root.getByTestId('doc-viewers')
    this.updated = root.getByTestId('doc-updated')
    this.error = root.getByTestId('doc-error')
    this.title = root.getByTestId('recent-doc-title')
  }

  /** Renames the document inline (R61): the new title is saved on the server. */
  async rename(title: string): Promise<void> {
    await this.root.getByRole('button', { name: /^Rename / }).click()
    await this.root.getByLabel('New title').fill(title)
    await this.root.getByRole('button', { name: 'Save' }).click()
  }

  async removeFromList(): Promise<void> {
    await this.root.getByRole('button', { name: /^Remove from list: / }).click()
  }

  /** Deletes the document for everyone, confirming in the dialog (R61). */
  async delete(): Promise<void> {
    await this.root.getByRole('button', { name: /^Delete / }).click()
    await this.root.page().getByTestId('delete-dialog').getByRole('button', { name: 'Delete' }).click()
  }
}

/** The start page at `/`. */
export class HomePage {
  readonly newDocumentButton: Locator
  readonly openInput: Locator
  readonly openButton: Locator
  readonly openError: Locator
  readonly recentDocs: Locator
  readonly search: Locator
  /** Polite word about the list: a document removed, deleted, or gone (R61). */
  readonly notice: Locator

  constructor(readonly page: Page) {
    this.newDocumentButton = page.getByRole('button', { name: 'New document' })
    this.openInput = page.getByLabel('Open by id or link')
    this.openButton = page.getByRole('button', { name: 'Open', exact: true })
    this.openError = page.locator('#open-doc-error')
    this.recentDocs = page.getByTestId('recent-docs').getByTestId('doc-entry')
    this.search = page.getByRole('searchbox', { name: 'Search your documents' })
    this.notice = page.getByTestId('recent-notice')
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

  /** The ids of the listed documents, top to bottom. */
  async listedIds(): Promise<string[]> {
    return this.recentDocs.evaluateAll((entries) =>
      entries.map((entry) => entry.getAttribute('data-doc-id') ?? ''),
    )
  }

  /** The same entry, with its live-state parts. */
  docEntry(docId: string): DocEntry {
    return new DocEntry(this.recentDoc(docId))
  }
}
