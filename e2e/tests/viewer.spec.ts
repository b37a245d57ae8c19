import { expect, test } from '../support/fixtures.ts'

const ALICE_TEXT = 'Hello, whoever is watching.'
const VIEWER_ATTEMPT = 'typed by the viewer'
const MORE_TEXT = ' Still here.'

test("[R20][R21] a viewer sees the editor's text and caret name live, cannot type, and editors see 1 viewing", async ({
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

  // A viewer may stay anonymous, and leaving takes them off the count.
  const anonymous = await newActor('Anonymous')
  await anonymous.viewer.goto(doc.viewUrl, null)
  await expect(alice.editor.viewerCount).toHaveText('2 viewing')
  await expect(alice.editor.viewerCount).toHaveAttribute('title', 'Viewing: Victor, Anonymous')
  await anonymous.close()
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
