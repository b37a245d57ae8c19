import type { Locator, Page } from '@playwright/test'

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
    this.recentDocs = page.getByTestId('recent-docs').getByTestId('recent-doc')
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
    return this.page.locator(`[data-testid="recent-doc"][data-doc-id="${docId}"]`)
  }
}
