import { expect, test } from '../support/fixtures.ts'

const TEXT = 'Written before the restart, kept after it.'

test('[R6][R7] content typed and shown Saved survives a server restart', async ({
  server,
  createDoc,
  serverText,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  await alice.open(doc.editUrl)
  await alice.editor.placeCaretAtEnd()
  await alice.editor.type(TEXT)

  // Once the server holds the edit, a "Saved" badge can only be the ack for it, not a render
  // left over from before the typing.
  await expect.poll(() => serverText(doc.id, doc.editToken)).toContain(TEXT)
  await alice.editor.waitSaved()
  // An open tab would resend its copy after the restart and hide a lost write, so close it first.
  await alice.close()

  await server.restart()

  const bob = await newActor('Bob')
  await bob.open(doc.editUrl)
  await expect.poll(() => bob.editor.text()).toBe(TEXT)
  await expect(bob.editor.saveState).toHaveText('Saved')
})
