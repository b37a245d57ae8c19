import { expect, test } from '../support/fixtures.ts'

const ALICE_TEXT = 'Hello, whoever is watching.'
const VIEWER_ATTEMPT = 'typed by the viewer'
const MORE_TEXT = ' Still here.'

test("[R20][R21][R63] a viewer sees the editor's text and caret name live, cannot type, and editors see 1 viewing", async ({
  createDoc,
  serverText,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  const victor = await newActor('Victor')
  await alice.open(doc.editUrl)
  await victor.view(doc.viewUrl)
  await expect(victor.viewer.transport).toHaveText('SSE')
  await expect(victor.viewer.readOnlyBadge).toBeVisible()
  // The server announces every viewer to everyone, the viewer included.
  await expect(victor.viewer.viewerCount).toHaveText('1 viewing')

  await expect(alice.editor.viewerCount).toHaveText('1 viewing')
  await expect(alice.editor.viewerCount).toHaveAttribute('title', 'Viewing: Victor')
  // Viewers are counted, not listed as editors.
  expect(await alice.editor.presenceNames()).toEqual(['Alice'])

  // A view link opens at once, with no name asked, under a generated one; leaving takes them off the count.
  const newcomer = await newActor('Newcomer')
  await newcomer.viewer.goto(doc.viewUrl, null)
  await expect(alice.editor.viewerCount).toHaveText('2 viewing')
  await expect(alice.editor.viewerCount).toHaveAttribute('title', /^Viewing: Anonymous [A-Z][a-z]+, Victor$/)
  await newcomer.close()
  await expect(alice.editor.viewerCount).toHaveText('1 viewing')

  await alice.editor.placeCaretAtEnd()
  await alice.editor.type(ALICE_TEXT)
  await expect.poll(() => victor.viewer.text()).toBe(ALICE_TEXT)
  await expect.poll(() => victor.viewer.caretNames()).toEqual(['Alice'])
  await expect.poll(() => victor.viewer.presenceNames()).toEqual(['Alice'])

  await expect(victor.viewer.content).toHaveAttribute('contenteditable', 'false')
  await victor.viewer.content.click()
  await victor.page.keyboard.type(VIEWER_ATTEMPT)
  await victor.page.keyboard.press('Enter')

  // Alice's next words reach the server and the viewer after anything the viewer could have sent,
  // so once they are there, the viewer's attempt would be too.
  await alice.editor.type(MORE_TEXT)
  const expected = `${ALICE_TEXT}${MORE_TEXT}`
  await expect.poll(() => serverText(doc.id, doc.editToken)).toBe(expected)
  await expect.poll(() => victor.viewer.text()).toBe(expected)
  await expect.poll(() => alice.editor.text()).toBe(expected)
  await alice.editor.waitSaved()
})

test('[R58][R63] a view link opens at once under a generated name, changed from your own chip; editors see the new name', async ({
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  await alice.open(doc.editUrl)
  const visitor = await newActor('Visitor')
  await visitor.viewer.goto(doc.viewUrl, null)
  await expect(alice.editor.viewerCount).toHaveAttribute('title', /^Viewing: Anonymous [A-Z][a-z]+$/)

  const chip = visitor.page.getByTestId('rename-self')
  await expect(chip).toHaveAccessibleName(/^Anonymous [A-Z][a-z]+ \(you\): change your name$/)
  await chip.click()
  const dialog = visitor.page.getByTestId('name-dialog')
  await expect(dialog).toBeVisible()
  await expect(dialog.getByLabel('Display name')).toBeFocused()
  await dialog.getByLabel('Display name').fill('Vera')
  await dialog.getByRole('button', { name: 'Save name' }).click()
  await expect(dialog).toBeHidden()

  await expect(alice.editor.viewerCount).toHaveAttribute('title', 'Viewing: Vera')
  await expect(alice.editor.viewerCount).toHaveText('1 viewing')
  await visitor.viewer.waitSynced()
  await expect(visitor.page.getByTestId('rename-self')).toHaveAccessibleName('Vera (you): change your name')
  // Remembered: the next visit uses it.
  await visitor.page.reload()
  await visitor.viewer.waitSynced()
  await expect(alice.editor.viewerCount).toHaveAttribute('title', 'Viewing: Vera')
})

test('[R19] resetting links disconnects the viewer and the old view link stops working', async ({
  createDoc,
  serverText,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  const victor = await newActor('Victor')
  await alice.open(doc.editUrl)
  await victor.view(doc.viewUrl)
  await alice.editor.placeCaretAtEnd()
  await alice.editor.type('Before the reset.')
  await expect.poll(() => serverText(doc.id, doc.editToken)).toBe('Before the reset.')
  await alice.editor.waitSaved()
  await expect(alice.editor.viewerCount).toHaveText('1 viewing')

  const links = await alice.editor.resetLinks()
  const newEditToken = new URL(links.editLink).searchParams.get('k')
  expect(links.editLink).not.toContain(doc.editToken)
  expect(links.viewLink).not.toContain(doc.viewToken)

  await victor.viewer.waitRefused()
  // Plain words, no codes (R63).
  await expect(victor.viewer.refusal).toContainText(
    'The links to this document were reset; ask the owner for a new one.',
  )
  await expect(alice.editor.viewerCount).toBeHidden()

  // The old view link is refused from now on, in a fresh browser too.
  const latecomer = await newActor('Lena')
  await latecomer.viewer.open(doc.viewUrl, 'Lena')
  await latecomer.viewer.waitRefused()
  await expect(serverText(doc.id, doc.editToken)).rejects.toThrow(/403/)

  // Alice carries on with the new edit link: her page moved onto it, and her edits still save.
  await alice.editor.waitSynced()
  await expect.poll(() => new URL(alice.page.url()).searchParams.get('k')).toBe(newEditToken)
  await expect(alice.editor.refusal).toBeHidden()
  await alice.editor.placeCaretAtEnd()
  await alice.editor.type(' After it.')
  const expected = 'Before the reset. After it.'
  await expect.poll(() => serverText(doc.id, newEditToken ?? '')).toBe(expected)
  await alice.editor.waitSaved()

  await victor.view(links.viewLink)
  await expect.poll(() => victor.viewer.text()).toBe(expected)
  await expect(alice.editor.viewerCount).toHaveText('1 viewing')
})
