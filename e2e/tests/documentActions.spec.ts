import { readFile } from 'node:fs/promises'
import type { Page } from '@playwright/test'
import { expect, test } from '../support/fixtures.ts'
import { HomePage } from '../support/HomePage.ts'

/** Picks a download item and returns the saved file's name and content. */
async function download(page: Page, item: string): Promise<{ name: string; content: string }> {
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    (async () => {
      await page.getByTestId('document-menu-button').click()
      await page.getByRole('menu', { name: 'Document' }).getByRole('menuitem', { name: item }).click()
    })(),
  ])
  const path = await file.path()
  return { name: file.suggestedFilename(), content: await readFile(path, 'utf8') }
}

test('[R61] the Document menu downloads each format under the title, prints clean and copies links', async ({
  newActor,
  createDoc,
}) => {
  const doc = await createDoc()
  const ann = await newActor('Ann')
  await ann.page.context().grantPermissions(['clipboard-read', 'clipboard-write'])
  await ann.open(doc.editUrl)

  // Untitled: "Untitled.<ext>".
  expect((await download(ann.page, 'Download as Markdown')).name).toBe('Untitled.md')

  await ann.editor.titleField.fill('Q3: plans/ideas?')
  await ann.page.keyboard.press('Enter')
  await ann.editor.type('Hello there')
  await ann.editor.waitSaved()

  const html = await download(ann.page, 'Download as HTML')
  expect(html.name).toBe('Q3 plans ideas.html')
  expect(html.content).toContain('<title>Q3: plans/ideas?</title>')
  expect(html.content).toContain('<p>Hello there</p>')
  const markdown = await download(ann.page, 'Download as Markdown')
  expect(markdown.name).toBe('Q3 plans ideas.md')
  expect(markdown.content).toBe('---\ntitle: "Q3: plans/ideas?"\n---\n\nHello there')
  const json = await download(ann.page, 'Download as JSON')
  expect(json.name).toBe('Q3 plans ideas.json')
  expect(JSON.parse(json.content)).toMatchObject({ type: 'doc' })
  const text = await download(ann.page, 'Download as Plain text')
  expect(text).toEqual({ name: 'Q3 plans ideas.txt', content: 'Hello there' })

  // Keyboard: ↓ opens on the first item, Escape closes and gives focus back to the button.
  await ann.editor.documentMenuButton.focus()
  await ann.page.keyboard.press('ArrowDown')
  await expect(ann.editor.documentMenuButton).toHaveAttribute('aria-expanded', 'true')
  await expect(ann.editor.documentMenu.getByRole('menuitem').first()).toBeFocused()
  await ann.page.keyboard.press('End')
  await expect(ann.editor.documentMenu.getByRole('menuitem', { name: 'Delete document…' })).toBeFocused()
  await ann.page.keyboard.press('Escape')
  await expect(ann.editor.documentMenu).toBeHidden()
  await expect(ann.editor.documentMenuButton).toBeFocused()

  // Copy links: the clipboard holds the whole address.
  await ann.editor.documentAction('Copy view link')
  await expect(ann.page.getByTestId('document-menu-notice')).toHaveText('View link copied')
  expect(await ann.page.evaluate(() => navigator.clipboard.readText())).toBe(
    new URL(doc.viewUrl, ann.page.url()).href,
  )
  await ann.editor.documentAction('Copy edit link')
  await expect(ann.page.getByTestId('document-menu-notice')).toHaveText('Edit link copied')
  expect(await ann.page.evaluate(() => navigator.clipboard.readText())).toBe(
    new URL(doc.editUrl, ann.page.url()).href,
  )

  // Reset links opens the share dialog, which has the reset.
  await ann.editor.documentAction('Reset links…')
  await expect(ann.editor.shareDialog).toBeVisible()
  await ann.editor.closeShare()

  // Print: only the title and the text.
  await ann.page.emulateMedia({ media: 'print' })
  await expect(ann.editor.documentMenuButton).toBeHidden()
  await expect(ann.editor.shareButton).toBeHidden()
  await expect(ann.editor.formatToolbar).toBeHidden()
  await expect(ann.editor.titleField).toBeVisible()
  await expect(ann.editor.content).toBeVisible()
  await ann.page.emulateMedia({ media: 'screen' })
  await expect(ann.editor.documentMenuButton).toBeVisible()
})

test('[R61] deleting from the editor asks first, then the document is gone from home, for others too', async ({
  newActor,
  createDoc,
}) => {
  const doc = await createDoc()
  const ann = await newActor('Ann')
  const bob = await newActor('Bob')
  await ann.open(doc.editUrl)
  await bob.open(doc.editUrl)
  await bob.page.goto('/')
  await ann.editor.titleField.fill('Old notes')
  await ann.editor.waitSaved()
  const bobHome = new HomePage(bob.page)
  await expect(bobHome.docEntry(doc.id).title).toHaveText('Old notes')

  await ann.editor.documentAction('Delete document…')
  const dialog = ann.page.getByTestId('delete-dialog')
  await expect(dialog).toContainText('Delete “Old notes”?')
  // Cancel keeps it.
  await dialog.getByRole('button', { name: 'Cancel' }).click()
  await expect(dialog).toBeHidden()
  await ann.editor.documentAction('Delete document…')
  await dialog.getByRole('button', { name: 'Delete' }).click()
  await expect(ann.page).toHaveURL(/\/$/)
  const annHome = new HomePage(ann.page)
  await expect(annHome.notice).toHaveText('“Old notes” was deleted.')
  await expect(annHome.recentDoc(doc.id)).toHaveCount(0)

  // Bob's list learns it from the server's 404: the entry leaves, with a polite word, no error.
  await expect(bobHome.recentDoc(doc.id)).toHaveCount(0)
  await expect(bobHome.notice).toHaveText('“Old notes” was deleted, so it left your list.')
})

test('[R61] the home list: sorted by last change, searched, renamed, removed, deleted', async ({
  page,
  createDoc,
}) => {
  const home = new HomePage(page)
  const docs = [await createDoc(), await createDoc(), await createDoc()]
  const [first, second, third] = docs as [(typeof docs)[0], (typeof docs)[0], (typeof docs)[0]]
  // Opened in this order, each given a title through the API; then the first changes last.
  for (const [doc, title] of [
    [first, 'Alpha'],
    [second, 'Beta'],
    [third, 'Gamma'],
  ] as const) {
    await page.goto(doc.editUrl)
    await expect(page.getByRole('textbox', { name: 'Document title' })).toBeEditable()
    await page.request.put(`/api/docs/${doc.id}/title?k=${doc.editToken}`, { data: { title } })
    await expect(page.getByRole('textbox', { name: 'Document title' })).toHaveValue(title)
  }
  await page.request.put(`/api/docs/${first.id}/title?k=${first.editToken}`, { data: { title: 'Alpha 2' } })

  await home.goto()
  await expect(home.docEntry(first.id).title).toHaveText('Alpha 2')
  await expect.poll(() => home.listedIds()).toEqual([first.id, third.id, second.id])

  // Search by title, then by id.
  await home.search.fill('gam')
  await expect.poll(() => home.listedIds()).toEqual([third.id])
  await home.search.fill(second.id.slice(2, 8))
  await expect.poll(() => home.listedIds()).toEqual([second.id])
  await home.search.fill('nothing like it')
  await expect(home.recentDocs).toHaveCount(0)
  await expect(page.getByText('No document matches “nothing like it”.')).toBeVisible()
  await home.search.fill('')

  // Rename inline: the server has the new title.
  await home.docEntry(second.id).rename('Beta, renamed')
  await expect(home.docEntry(second.id).title).toHaveText('Beta, renamed')
  const status = await page.request.get(`/api/docs/${second.id}?k=${second.viewToken}`)
  expect(((await status.json()) as { title: string }).title).toBe('Beta, renamed')
  await expect.poll(() => home.listedIds()).toEqual([second.id, first.id, third.id])

  // Remove from this list: local only, the document stays.
  await home.docEntry(third.id).removeFromList()
  await expect(home.recentDoc(third.id)).toHaveCount(0)
  await expect(home.notice).toHaveText('“Gamma” was removed from this list.')
  expect((await page.request.get(`/api/docs/${third.id}?k=${third.viewToken}`)).status()).toBe(200)
  await page.reload()
  await expect(home.recentDoc(third.id)).toHaveCount(0)

  // Delete, confirmed: gone on the server too.
  await home.docEntry(first.id).delete()
  await expect(home.recentDoc(first.id)).toHaveCount(0)
  expect((await page.request.get(`/api/docs/${first.id}?k=${first.viewToken}`)).status()).toBe(404)
  await expect.poll(() => home.listedIds()).toEqual([second.id])
})

test('[R61] a view link lists without rename or delete', async ({ page, createDoc }) => {
  const doc = await createDoc()
  await page.goto(doc.viewUrl)
  await expect(page.getByTestId('title-text')).toHaveText('Untitled')
  const home = new HomePage(page)
  await home.goto()
  const entry = home.docEntry(doc.id)
  await expect(entry.title).toContainText('Untitled')
  await expect(entry.root.getByRole('button', { name: /^Rename / })).toHaveCount(0)
  await expect(entry.root.getByRole('button', { name: /^Delete / })).toHaveCount(0)
  await expect(entry.root.getByRole('button', { name: /^Remove from list: / })).toBeVisible()
})

test('[R61] a view link downloads and prints, copies its own link, and has nothing that changes the document', async ({
  newActor,
  createDoc,
}) => {
  const doc = await createDoc()
  const ann = await newActor('Ann')
  const vic = await newActor('Vic')
  await vic.page.context().grantPermissions(['clipboard-read', 'clipboard-write'])
  await ann.open(doc.editUrl)
  await ann.editor.titleField.fill('Read me')
  await ann.page.keyboard.press('Enter')
  await ann.editor.type('Only to read')
  await ann.editor.waitSaved()
  await vic.view(doc.viewUrl)
  await expect(vic.viewer.titleText).toHaveText('Read me')

  expect(await download(vic.page, 'Download as Markdown')).toEqual({
    name: 'Read me.md',
    content: '---\ntitle: "Read me"\n---\n\nOnly to read',
  })
  await vic.page.getByTestId('document-menu-button').click()
  const menu = vic.page.getByRole('menu', { name: 'Document' })
  await expect(menu.getByRole('menuitem')).toHaveText([
    'Download as HTML',
    'Download as Markdown',
    'Download as JSON',
    'Download as Plain text',
    'Print…',
    'Copy view link',
  ])
  await menu.getByRole('menuitem', { name: 'Copy view link' }).click()
  await expect(vic.page.getByTestId('document-menu-notice')).toHaveText('View link copied')
  expect(await vic.page.evaluate(() => navigator.clipboard.readText())).toBe(
    new URL(doc.viewUrl, vic.page.url()).href,
  )
})
