import type { Page } from '@playwright/test'
import { expect, test } from '../support/fixtures.ts'
import { HomePage } from '../support/HomePage.ts'

/** A few polls at the visible tab's 3 s interval. */
const REFRESH_TIMEOUT_MS = 12_000

test("[R27] the home page refreshes a document's live state by short polling", async ({
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  const bob = await newActor('Bob')
  await alice.open(doc.editUrl)
  const home = new HomePage(alice.page)
  await home.goto()
  const statuses = recordStatusResponses(alice.page, doc.id)
  const entry = home.docEntry(doc.id)
  // Alice left the document for this page, so nobody is in it now.
  await expect(entry.editors).toHaveText('nobody', { timeout: REFRESH_TIMEOUT_MS })
  await expect(entry.viewers).toHaveText('0 viewing')
  const updatedBefore = await entry.updated.getAttribute('datetime')
  const pageLoad = await alice.page.evaluate(() => performance.timeOrigin)

  await bob.open(doc.editUrl)
  await expect(entry.editors).toHaveText('Bob', { timeout: REFRESH_TIMEOUT_MS })
  await bob.editor.placeCaretAtEnd()
  await bob.editor.type('Bob was here.')
  await bob.editor.waitSaved()
  await expect(entry.updated).not.toHaveAttribute('datetime', updatedBefore ?? '', {
    timeout: REFRESH_TIMEOUT_MS,
  })
  await expect(entry.updated).toHaveText(/just now|\d+ s ago/)
  await expect(entry.editors).toHaveText('Bob')
  await expect(entry.error).toHaveCount(0)
  expect(await alice.page.evaluate(() => performance.timeOrigin), 'the home page was not reloaded').toBe(
    pageLoad,
  )

  // Nothing changes now, so the next polls are answered 304 Not Modified, without a body.
  const settledAt = statuses.length
  await expect
    .poll(() => statuses.slice(settledAt).filter((status) => status === 304).length, {
      timeout: REFRESH_TIMEOUT_MS,
    })
    .toBeGreaterThan(0)
  expect(statuses.every((status) => status === 200 || status === 304)).toBe(true)
})

test('[R27][R19] a failed refresh shows on its entry, which recovers; a reset link says so', async ({
  server,
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  const bob = await newActor('Bob')
  await bob.open(doc.editUrl)
  await alice.open(doc.editUrl)
  const home = new HomePage(alice.page)
  await home.goto()
  const entry = home.docEntry(doc.id)
  await expect(entry.editors).toHaveText('Bob', { timeout: REFRESH_TIMEOUT_MS })

  await server.stop()
  await expect(entry.error).toHaveText("couldn't refresh: the server cannot be reached", {
    timeout: REFRESH_TIMEOUT_MS,
  })
  // What was known stays on screen, and the rest of the page still works.
  await expect(entry.editors).toHaveText('Bob')
  await expect(home.newDocumentButton).toBeEnabled()

  await server.restart()
  await expect(entry.error).toHaveCount(0, { timeout: REFRESH_TIMEOUT_MS })
  await bob.editor.waitSynced()
  await expect(entry.editors).toHaveText('Bob', { timeout: REFRESH_TIMEOUT_MS })

  await bob.editor.resetLinks()
  await expect(entry.error).toHaveText('link was reset', { timeout: REFRESH_TIMEOUT_MS })
  await expect(entry.root.getByTestId('recent-doc-edit-link')).toBeVisible()
})

/** Statuses of the page's `GET /api/docs/<docId>` responses, as they arrive. */
function recordStatusResponses(page: Page, docId: string): number[] {
  const statuses: number[] = []
  page.on('response', (response) => {
    const { pathname } = new URL(response.url())
    if (pathname === `/api/docs/${docId}`) statuses.push(response.status())
  })
  return statuses
}
