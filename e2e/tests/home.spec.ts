import { expect, test } from '../support/fixtures.ts'
import { EditorPage } from '../support/EditorPage.ts'
import { HomePage } from '../support/HomePage.ts'
import { ViewerPage } from '../support/ViewerPage.ts'

const EDITOR_URL = /\/d\/([A-Za-z0-9_-]+)\?k=[^&#]+$/

test('[R3][R16][R17] the home page creates a document, lists it, and opens links, or ids this browser holds a link for', async ({
  page,
}) => {
  const home = new HomePage(page)
  const editor = new EditorPage(page)
  const viewer = new ViewerPage(page)

  await home.goto()
  await home.newDocumentButton.click()
  await expect(page).toHaveURL(EDITOR_URL)
  const docId = EDITOR_URL.exec(page.url())?.[1] ?? ''

  // The document opens at once under a generated name; your own entry changes it.
  await editor.waitSynced()
  await expect(editor.transport).toHaveText('WebSocket')
  await expect(editor.saveState).toHaveText('Saved')
  expect(await editor.presenceNames()).toEqual([expect.stringMatching(/^Anonymous [A-Z][a-z]+$/)])
  await page.getByTestId('rename-self').click()
  await page.getByLabel('Display name').fill('  Carol  ')
  await page.getByRole('button', { name: 'Save name' }).click()
  await expect.poll(() => editor.presenceNames()).toEqual(['Carol'])

  await home.goto()
  await home.open('not/a valid id')
  await expect(home.openError).toBeVisible()
  await expect(page).toHaveURL(/\/$/)

  // A well-formed id opens only with a token, and this browser holds none for this one.
  await home.open('neverOpened1')
  await expect(home.openError).toContainText('no link')
  await expect(page).toHaveURL(/\/$/)

  const entry = home.recentDoc(docId)
  await expect(entry).toBeVisible()
  // Nobody gave it a title (R60).
  await expect(home.docEntry(docId).title).toContainText('Untitled')
  await expect(entry.getByTestId('recent-doc-edit-link')).toHaveAttribute('href', /^\/d\/[^?]+\?k=/)
  await expect(entry.getByTestId('recent-doc-view-link')).toHaveAttribute('href', /^\/v\/[^?]+\?k=/)
  const viewPath = (await entry.getByTestId('recent-doc-view-link').getAttribute('href')) ?? ''

  // A bare id works here, because this browser remembers its edit token; the name is remembered too.
  await home.open(docId)
  await expect(page).toHaveURL(EDITOR_URL)
  expect(EDITOR_URL.exec(page.url())?.[1]).toBe(docId)
  await editor.waitSynced()
  expect(await editor.presenceNames()).toEqual(['Carol'])

  // A pasted view link (the whole address) opens the read-only page.
  await home.goto()
  await home.open(new URL(viewPath, page.url()).toString())
  await expect(page).toHaveURL(new RegExp(`/v/${docId}\\?k=`))
  await viewer.waitSynced()
  await expect(viewer.transport).toHaveText('SSE')
  await expect(viewer.content).toHaveAttribute('contenteditable', 'false')
})
