import type { Locator, Page } from '@playwright/test'

/** The start page at `/`. */
export class HomePage {
  readonly newDocumentButton: Locator
  readonly openInput: Locator
  readonly openButton: Locator
  readonly openError: Locator

  constructor(readonly page: Page) {
    this.newDocumentButton = page.getByRole('button', { name: 'New document' })
    this.openInput = page.getByLabel('Open by id or link')
    this.openButton = page.getByRole('button', { name: 'Open', exact: true })
    this.openError = page.locator('#open-doc-error')
  }

  async goto(): Promise<void> {
    await this.page.goto('/')
  }

  async open(idOrLink: string): Promise<void> {
    await this.openInput.fill(idOrLink)
    await this.openButton.click()
  }
}
