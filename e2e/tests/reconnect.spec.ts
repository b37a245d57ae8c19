import { expect, test } from '../support/fixtures.ts'

const ONLINE_TEXT = 'Typed while connected.'
const OFFLINE_TEXT = ' Typed while the server was down.'
/** Backoff is capped by full jitter, so a reconnect after a restart can take a few attempts. */
const RECONNECT_TIMEOUT_MS = 30_000

test('[R12][R7] edits typed while the server is down are kept, then sent and saved when it returns', async ({
  server,
  createDoc,
  serverText,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  await alice.open(doc.editUrl)
  await alice.editor.placeCaretAtEnd()
  await alice.editor.type(ONLINE_TEXT)
  await expect.poll(() => serverText(doc.id, doc.editToken)).toBe(ONLINE_TEXT)
  await alice.editor.waitSaved()

  await server.stop()
  await expect(alice.editor.connectionState).toHaveAttribute('data-state', 'offline')
  await expect(alice.editor.connectionState).toHaveText('Offline — changes kept on this device')
  await alice.editor.type(OFFLINE_TEXT)
  await expect(alice.editor.saveState).toHaveText('Saving…')

  await server.restart()
  await expect(alice.editor.connectionState).toHaveAttribute('data-state', 'connected', {
    timeout: RECONNECT_TIMEOUT_MS,
  })
  await alice.editor.waitSaved()
  const expected = `${ONLINE_TEXT}${OFFLINE_TEXT}`
  expect(await serverText(doc.id, doc.editToken)).toBe(expected)

  const bob = await newActor('Bob')
  await bob.open(doc.editUrl)
  await expect.poll(() => bob.editor.text()).toBe(expected)
})
