import { expect, type Locator, type Page } from '@playwright/test'

/** The version history panel beside the text (SPEC R62), as one editor uses it. */
export class HistoryPanel {
  readonly button: Locator
  readonly panel: Locator
  readonly items: Locator
  /** The read-only text of the version open in the panel. */
  readonly versionDocument: Locator

  constructor(readonly page: Page) {
    this.button = page.getByTestId('history-button')
    this.panel = page.getByTestId('history-panel')
    this.items = this.panel.getByTestId('history-item')
    this.versionDocument = this.panel.getByTestId('version-document')
  }

  async open(): Promise<void> {
    if ((await this.button.getAttribute('aria-expanded')) !== 'true') await this.button.click()
    await expect(this.panel).toBeVisible()
  }

  async close(): Promise<void> {
    await this.panel.getByRole('button', { name: 'Close history' }).click()
    await expect(this.panel).toBeHidden()
  }

  /** "Save version…", a name, Save; waits until the new version is listed. */
  async saveVersion(name: string): Promise<void> {
    await this.panel.getByRole('button', { name: 'Save version…' }).click()
    const dialog = this.page.getByTestId('save-version-dialog')
    await dialog.getByLabel('Version name').fill(name)
    await dialog.getByRole('button', { name: 'Save version' }).click()
    await expect(dialog).toBeHidden()
    await expect(this.items.filter({ hasText: `Named: ${name}` })).toHaveCount(1)
  }

  /** Opens the newest version whose title reads `title`, read-only beside the text. */
  async openVersion(title: string): Promise<void> {
    await this.items.filter({ hasText: title }).first().click()
    await expect(this.versionDocument).toBeVisible()
  }

  /** "Restore this version", confirmed; waits until the server applied it. */
  async restore(): Promise<void> {
    await this.panel.getByRole('button', { name: 'Restore this version' }).click()
    const dialog = this.page.getByTestId('restore-version-dialog')
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click()
    await expect(dialog).toBeHidden()
    await expect(this.panel.getByRole('status').filter({ hasText: 'Restored' })).toBeVisible()
  }
}
