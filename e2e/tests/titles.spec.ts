import { expect, test } from '../support/fixtures.ts'
import { HomePage } from '../support/HomePage.ts'

test('[R60] a title typed by one editor is seen by the other and by a viewer, in the page and the tab', async ({
  newActor,
  createDoc,
}) => {
  const doc = await createDoc()
  const ann = await newActor('Ann')
  const bob = await newActor('Bob')
  const vic = await newActor('Vic')
  await ann.open(doc.editUrl)
  await bob.open(doc.editUrl)
  await vic.view(doc.viewUrl)

  // New documents say "Untitled".
  await expect(ann.editor.titleField).toHaveValue('')
  await expect(ann.editor.titleField).toHaveAttribute('placeholder', 'Untitled')
  await expect(ann.page).toHaveTitle('Untitled · Tandem')
  await expect(vic.viewer.titleText).toHaveText('Untitled')

  await ann.editor.titleField.click()
  await ann.page.keyboard.type('Trip plan')
  await expect(bob.editor.titleField).toHaveValue('Trip plan')
  await expect(bob.page).toHaveTitle('Trip plan · Tandem')
  await expect(vic.viewer.titleText).toHaveText('Trip plan')
  await expect(vic.page).toHaveTitle('Trip plan · Tandem')
  // The viewer's title is text, not a field.
  await expect(vic.page.getByRole('textbox', { name: 'Document title' })).toHaveCount(0)

  // Bob's caret sits after "Trip"; Ann's edit before it moves it along, her edit after it does not.
  await bob.editor.titleField.click()
  await bob.editor.titleField.evaluate((input: HTMLInputElement) => input.setSelectionRange(4, 4))
  await ann.page.keyboard.press('Home')
  await ann.page.keyboard.type('My ')
  await ann.page.keyboard.press('End')
  await ann.page.keyboard.type(' 2026')
  await expect(bob.editor.titleField).toHaveValue('My Trip plan 2026')
  await bob.page.keyboard.type('s')
  await expect(ann.editor.titleField).toHaveValue('My Trips plan 2026')
  await expect(vic.page).toHaveTitle('My Trips plan 2026 · Tandem')

  // Enter goes on into the text.
  await ann.page.keyboard.press('Enter')
  await ann.editor.type('Day one')
  await expect(bob.editor.content).toContainText('Day one')
  await expect(ann.editor.titleField).toHaveValue('My Trips plan 2026')
})

test('[R60] the home list and the exports carry the title', async ({ newActor, createDoc, request }) => {
  const doc = await createDoc()
  const ann = await newActor('Ann')
  await ann.open(doc.editUrl)
  await ann.editor.titleField.fill('Budget & <plans>')
  await ann.page.keyboard.press('ArrowDown')
  await ann.editor.type('Numbers')
  await ann.editor.waitSaved()

  const home = new HomePage(ann.page)
  await home.goto()
  await expect(home.docEntry(doc.id).title).toHaveText('Budget & <plans>')

  const exported = async (format: string): Promise<string> =>
    (await request.get(`/api/docs/${doc.id}/content?format=${format}&k=${doc.viewToken}`)).text()
  expect(await exported('html')).toContain('<title>Budget &#38; &#60;plans&#62;</title>')
  expect(await exported('markdown')).toMatch(/^---\ntitle: "Budget & <plans>"\n---\n\nNumbers/)
  const status = (await (await request.get(`/api/docs/${doc.id}?k=${doc.viewToken}`)).json()) as {
    title: string
  }
  expect(status.title).toBe('Budget & <plans>')
})
