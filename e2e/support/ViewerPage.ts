import { expect, type Locator, type Page } from '@playwright/test'
import { DocumentSurface, withName } from './DocumentSurface.ts'

/** The read-only page at `/v/<docId>?k=<viewToken>`. */
export class ViewerPage extends DocumentSurface {
  readonly readOnlyBadge: Locator
  /** The title, shown as text (R60). */
  readonly titleText: Locator

  constructor(page: Page) {
    super(page)
    this.readOnlyBadge = page.getByTestId('read-only')
    this.titleText = page.getByTestId('title-text')
  }

  /**
   * Opens a view link as `name`, or (null) as a first visit without one: the page opens at once
   * under a generated name (R58, R63). Does not wait for the connection.
   */
  async open(viewLink: string, name: string | null): Promise<void> {
    await this.page.goto(name === null ? viewLink : withName(viewLink, name))
  }

  /** Opens a view link and waits for the first sync. */
  async goto(viewLink: string, name: string | null): Promise<void> {
    await this.open(viewLink, name)
    await this.waitSynced()
    await expect(this.content).toHaveAttribute('contenteditable', 'false')
  }
}
