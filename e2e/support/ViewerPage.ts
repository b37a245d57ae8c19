import { expect, type Locator, type Page } from '@playwright/test'
import { DocumentSurface, withName } from './DocumentSurface.ts'

/** The read-only page at `/v/<docId>?k=<viewToken>`. */
export class ViewerPage extends DocumentSurface {
  readonly readOnlyBadge: Locator

  constructor(page: Page) {
    super(page)
    this.readOnlyBadge = page.getByTestId('read-only')
  }

  /** Opens a view link as `name`, or anonymously (null), without waiting for the connection. */
  async open(viewLink: string, name: string | null): Promise<void> {
    if (name !== null) {
      await this.page.goto(withName(viewLink, name))
      return
    }
    await this.page.goto(viewLink)
    await this.page.getByRole('button', { name: 'Stay anonymous' }).click()
  }

  /** Opens a view link and waits for the first sync. */
  async goto(viewLink: string, name: string | null): Promise<void> {
    await this.open(viewLink, name)
    await this.waitSynced()
    await expect(this.content).toHaveAttribute('contenteditable', 'false')
  }
}
