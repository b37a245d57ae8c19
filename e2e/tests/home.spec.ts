import { expect, test } from '../support/fixtures.ts'
import { EditorPage } from '../support/EditorPage.ts'
import { HomePage } from '../support/HomePage.ts'

const EDITOR_URL = /\/d\/([A-Za-z0-9_-]+)$/

test('[R3][R16] the home page creates a document, asks a name once, and opens only valid document ids', async ({
  page,
}) => {
  const home = new HomePage(page)
  const editor = new EditorPage(page)

  await home.goto()
  await home.newDocumentButton.click()
  await expect(page).toHaveURL(EDITOR_URL)
  const docId = EDITOR_URL.exec(page.url())?.[1] ?? ''

  await page.getByLabel('Display name').fill('  Carol  ')
  await page.getByRole('button', { name: 'Join document' }).click()
  await editor.waitSynced()
  await expect(editor.transport).toHaveText('WebSocket')
  await expect(editor.saveState).toHaveText('Saved')
  expect(await editor.presenceNames()).toEqual(['Carol'])

  await home.goto()
  await home.open('not/a valid id')
  await expect(home.openError).toBeVisible()
  await expect(page).toHaveURL(/\/$/)

  // A pasted link works as well as a bare id; the remembered name skips the prompt.
  await home.open(`${page.url()}d/${docId}`)
  await expect(page).toHaveURL(new RegExp(`/d/${docId}$`))
  await editor.waitSynced()
  expect(await editor.presenceNames()).toEqual(['Carol'])
})
