import { expect, test } from '../support/fixtures.ts'
import {
  databaseNames,
  holdIndexedDb,
  journalKeyPrefix,
  journalKeys,
  localReplicaName,
  openTab,
  waitForAppShell,
} from '../support/offline.ts'

const ONLINE_TEXT = 'Typed online.'
/** Long enough that IndexedDB may still have writes in flight when the tab goes (SPEC R38). */
const OFFLINE_TEXT = ' Typed offline, and the tab went straight after the last key.'
/** Backoff is capped by full jitter, so a reconnect after a restart can take a few attempts. */
const RECONNECT_TIMEOUT_MS = 30_000

// Stopping the server is what cuts the live connection: the browser's offline switch
// (`setOffline`) fails new requests but leaves an open WebSocket open. Where a test also needs
// the page to load without a network, it uses both.

test('[R38] edits typed offline survive closing the tab straight after the last key, and reach the server when the document is opened again', async ({
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
  // A slow disk: every key typed from here is still on its way into IndexedDB when the tab goes,
  // and closing aborts those writes. Only the journal in localStorage keeps them.
  await holdIndexedDb(alice.page, doc.id)
  await alice.editor.type(OFFLINE_TEXT)
  const browser = alice.page.context()
  await alice.page.close()

  await server.restart()
  const tab = await openTab(browser, doc.editUrl, 'Alice')
  const expected = `${ONLINE_TEXT}${OFFLINE_TEXT}`
  await expect.poll(() => tab.editor.text()).toBe(expected)
  await expect(tab.editor.connectionState).toHaveAttribute('data-state', 'connected', {
    timeout: RECONNECT_TIMEOUT_MS,
  })
  await expect.poll(() => serverText(doc.id, doc.editToken)).toBe(expected)
  await tab.editor.waitSaved()
  // Once IndexedDB holds what the journal kept, the journal is emptied.
  await expect.poll(() => journalKeys(tab.page, doc.id)).toEqual([])

  const bob = await newActor('Bob')
  await bob.open(doc.editUrl)
  await expect.poll(() => bob.editor.text()).toBe(expected)
  expect(tab.errors).toEqual([])
})

test('[R38] a reload straight after typing offline opens the document from the browser with every key, editable, and its edits are saved once back online', async ({
  server,
  createDoc,
  serverText,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  await alice.open(doc.editUrl)
  await waitForAppShell(alice.page)
  await alice.editor.placeCaretAtEnd()
  await alice.editor.type(ONLINE_TEXT)
  await expect.poll(() => serverText(doc.id, doc.editToken)).toBe(ONLINE_TEXT)
  await alice.editor.waitSaved()

  await server.stop()
  await alice.page.context().setOffline(true)
  await expect(alice.editor.connectionState).toHaveAttribute('data-state', 'offline')
  // A slow disk: the keys are still on their way into IndexedDB when the reload aborts the writes.
  await holdIndexedDb(alice.page, doc.id)
  await alice.editor.type(OFFLINE_TEXT)

  // Straight after the last key. Without the service worker this is the browser's "No internet" page.
  await alice.page.reload()
  await expect.poll(() => alice.editor.text()).toBe(`${ONLINE_TEXT}${OFFLINE_TEXT}`)
  await expect(alice.editor.content).toHaveAttribute('contenteditable', 'true')
  await expect(alice.editor.connectionState).not.toHaveAttribute('data-state', 'connected')
  await alice.editor.placeCaretAtEnd()
  await alice.editor.type(' After the reload.')
  const expected = `${ONLINE_TEXT}${OFFLINE_TEXT} After the reload.`
  await expect.poll(() => alice.editor.text()).toBe(expected)
  await expect(alice.editor.saveState).toHaveText('Saving…')

  await server.restart()
  await alice.page.context().setOffline(false)
  await expect(alice.editor.connectionState).toHaveAttribute('data-state', 'connected', {
    timeout: RECONNECT_TIMEOUT_MS,
  })
  await expect.poll(() => serverText(doc.id, doc.editToken)).toBe(expected)
  await alice.editor.waitSaved()
  await expect.poll(() => journalKeys(alice.page, doc.id)).toEqual([])
})

test('[R38] edits typed offline survive a crash of the tab straight after the last key', async ({
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
  await alice.editor.waitSaved()

  await server.stop()
  await expect(alice.editor.connectionState).toHaveAttribute('data-state', 'offline')
  await alice.editor.type(OFFLINE_TEXT)
  // Straight after the last key, with IndexedDB as fast as it is, the renderer dies: no unload, no
  // event, nothing the page could still do.
  const browser = alice.page.context()
  const crashed = alice.page.waitForEvent('crash')
  const devtools = await browser.newCDPSession(alice.page)
  // The session dies with the page, so the answer never comes.
  devtools.send('Page.crash').catch(() => undefined)
  await crashed

  await server.restart()
  const tab = await openTab(browser, doc.editUrl, 'Alice')
  const expected = `${ONLINE_TEXT}${OFFLINE_TEXT}`
  await expect.poll(() => tab.editor.text()).toBe(expected)
  await expect.poll(() => serverText(doc.id, doc.editToken), { timeout: RECONNECT_TIMEOUT_MS }).toBe(expected)
  await tab.editor.waitSaved()
  await expect.poll(() => journalKeys(tab.page, doc.id)).toEqual([])
  expect(tab.errors).toEqual([])
})

test('[R38] two tabs of one browser keep each other up to date while offline, and both are saved once back online', async ({
  server,
  createDoc,
  serverText,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  await alice.open(doc.editUrl)
  const second = await openTab(alice.page.context(), doc.editUrl, 'Alice')
  await second.editor.waitSynced()

  await server.stop()
  await alice.page.context().setOffline(true)
  await expect(alice.editor.connectionState).toHaveAttribute('data-state', 'offline')
  await expect(second.editor.connectionState).toHaveAttribute('data-state', 'offline')

  await alice.editor.placeCaretAtEnd()
  await alice.editor.type('From the first tab.')
  await expect.poll(() => second.editor.text()).toBe('From the first tab.')
  await second.editor.placeCaretAtEndOfBlock(0)
  await second.page.keyboard.press('Enter')
  await second.editor.type('From the second tab.')
  const expected = 'From the first tab.\nFrom the second tab.'
  await expect.poll(() => alice.editor.text()).toBe(expected)

  await server.restart()
  await alice.page.context().setOffline(false)
  await expect.poll(() => serverText(doc.id, doc.editToken), { timeout: RECONNECT_TIMEOUT_MS }).toBe(expected)
  await alice.editor.waitSaved()
  await second.editor.waitSaved()
  expect(second.errors).toEqual([])
})

test('[R38] a view link keeps no copy of the document, and the service worker keeps only the app', async ({
  createDoc,
  newActor,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  await alice.open(doc.editUrl)
  await alice.editor.placeCaretAtEnd()
  await alice.editor.type('Only for those who hold a link.')
  await alice.editor.waitSaved()
  // The editor's browser does keep one: the check below can see such a database.
  await expect.poll(() => databaseNames(alice.page)).toContain(localReplicaName(doc.id))

  const bob = await newActor('Bob')
  await bob.view(doc.viewUrl)
  await waitForAppShell(bob.page)
  await expect.poll(() => bob.viewer.text()).toBe('Only for those who hold a link.')
  expect(await databaseNames(bob.page)).toEqual([])
  expect(await journalKeys(bob.page, doc.id)).toEqual([])
  const cached = await bob.page.evaluate(async () => {
    const urls: string[] = []
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname)
    }
    return urls
  })
  expect(cached).toContain('/index.html')
  for (const path of cached)
    expect(path).toMatch(/^\/(index\.html|favicon\.svg|manifest\.webmanifest|assets\/[^/]+)$/)
})

test('[R38][R55] deleting a document removes the copy the browser kept of it', async ({
  createDoc,
  newActor,
  request,
}) => {
  const doc = await createDoc()
  const alice = await newActor('Alice')
  await alice.open(doc.editUrl)
  await alice.editor.placeCaretAtEnd()
  await alice.editor.type('Soon gone.')
  await alice.editor.waitSaved()
  await expect.poll(() => databaseNames(alice.page)).toContain(localReplicaName(doc.id))
  // What a tab closed straight after typing would have left behind.
  const leftBehind = `${journalKeyPrefix(doc.id)}closed-tab`
  await alice.page.evaluate((key) => localStorage.setItem(key, ''), leftBehind)

  const response = await request.delete(`/api/docs/${doc.id}`, {
    headers: { Authorization: `Bearer ${doc.editToken}` },
  })
  expect(response.status()).toBe(204)
  await alice.editor.waitRefused()
  await expect.poll(() => databaseNames(alice.page)).not.toContain(localReplicaName(doc.id))
  await expect.poll(() => journalKeys(alice.page, doc.id)).toEqual([])
})
