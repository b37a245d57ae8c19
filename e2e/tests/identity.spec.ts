import { EditorPage } from '../support/EditorPage.ts'
import { expect, test } from '../support/fixtures.ts'

test('[R58] an edit link opens at once under a generated name; renaming from your own entry reaches everyone and is remembered', async ({
  browser,
  server,
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const bob = await newActor('Bob')
  await bob.open(doc.editUrl)

  // A first visit without a name: no prompt stands between the link and the document.
  const context = await browser.newContext({ baseURL: server.url })
  const page = await context.newPage()
  const editor = new EditorPage(page)
  await page.goto(doc.editUrl)
  await editor.waitSynced()
  const generated = /^Anonymous [A-Z][a-z]+$/
  await expect
    .poll(() => editor.presenceNames())
    .toEqual(expect.arrayContaining(['Bob', expect.stringMatching(generated)]))
  await expect.poll(() => bob.editor.presenceNames()).toContainEqual(expect.stringMatching(generated))
  await editor.placeCaretAtEnd()
  await editor.type('Typed before choosing a name.')

  await page.getByTestId('rename-self').click()
  await page.getByLabel('Display name').fill('Alice')
  await page.getByRole('button', { name: 'Save name' }).click()
  await expect.poll(() => bob.editor.presenceNames()).toEqual(expect.arrayContaining(['Alice', 'Bob']))
  // The editor was not rebuilt: its text and history stay, typing goes on.
  await editor.placeCaretAtEnd()
  await editor.type(' And after.')
  await expect.poll(() => bob.editor.text()).toBe('Typed before choosing a name. And after.')

  await page.reload()
  await editor.waitSynced()
  await expect.poll(() => editor.presenceNames()).toEqual(expect.arrayContaining(['Alice', 'Bob']))
  expect(await editor.presenceNames()).not.toContainEqual(expect.stringMatching(generated))
  await context.close()
})

test('[R58] two people whose names map to one colour show two colours in the room', async ({
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  // Both names hash to the same palette colour (colorForName).
  const alice = await newActor('Alice')
  const erin = await newActor('Erin')
  await alice.open(doc.editUrl)
  await erin.open(doc.editUrl)
  for (const actor of [alice, erin]) {
    await expect.poll(() => actor.editor.presenceNames()).toEqual(expect.arrayContaining(['Alice', 'Erin']))
    const dots = actor.page.getByTestId('presence-user').locator('.presence-dot')
    await expect
      .poll(
        async () =>
          new Set(await dots.evaluateAll((all) => all.map((dot) => getComputedStyle(dot).backgroundColor)))
            .size,
      )
      .toBe(2)
  }
})
