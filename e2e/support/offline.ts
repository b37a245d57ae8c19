import { expect, type BrowserContext, type Page } from '@playwright/test'
import { withName } from './DocumentSurface.ts'
import { EditorPage } from './EditorPage.ts'

/** Another tab of an actor's browser (same context: same storage, same service worker). */
export interface Tab {
  readonly page: Page
  readonly editor: EditorPage
  /** Uncaught exceptions in this tab; a test expects it to stay empty. */
  readonly errors: readonly string[]
}

/**
 * Opens `editLink` as `name` in a new tab of `context` and waits until the document shows, not
 * for a connection: offline there is none.
 */
export async function openTab(context: BrowserContext, editLink: string, name: string): Promise<Tab> {
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.stack ?? error.message))
  const editor = new EditorPage(page)
  await page.goto(withName(editLink, name))
  await expect(editor.content).toBeVisible()
  return { page, editor, errors }
}

/**
 * Waits until the app-shell service worker controls `page`: from then on the app's pages open,
 * and reload, without a network.
 */
export async function waitForAppShell(page: Page): Promise<void> {
  await expect
    .poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null), {
      message: 'the service worker controls the page',
    })
    .toBe(true)
}

/** The IndexedDB database the client keeps a document in (client/src/offline/localReplica.ts). */
export function localReplicaName(docId: string): string {
  return `tandem:${docId}`
}

/** Names of the IndexedDB databases of the page's origin. */
export function databaseNames(page: Page): Promise<string[]> {
  return page.evaluate(async () => (await indexedDB.databases()).flatMap(({ name }) => name ?? []))
}

/**
 * Keeps the document's IndexedDB busy, as a slow disk does, from now until the page goes: a
 * read-write transaction on y-indexeddb's `updates` store, kept alive by one request after
 * another. IndexedDB runs read-write transactions on one store in order, so every write the page
 * starts after this is still in flight when the tab closes, reloads or crashes. Resolves once the
 * transaction holds the store.
 */
export async function holdIndexedDb(page: Page, docId: string): Promise<void> {
  await page.evaluate(
    (name) =>
      new Promise<void>((resolve, reject) => {
        const request = indexedDB.open(name)
        request.onerror = () => reject(request.error ?? new Error(`cannot open ${name}`))
        request.onsuccess = () => {
          const store = request.result.transaction('updates', 'readwrite').objectStore('updates')
          const keepBusy = (): void => {
            store.count().onsuccess = keepBusy
          }
          store.count().onsuccess = () => {
            resolve()
            keepBusy()
          }
        }
      }),
    localReplicaName(docId),
  )
}

/** Prefix of the localStorage keys of a document's write-ahead journal (client/src/offline/journal.ts). */
export function journalKeyPrefix(docId: string): string {
  return `tandem.journal.${docId}.`
}

/** The localStorage keys of the page's origin that hold a journal of `docId`. */
export function journalKeys(page: Page, docId: string): Promise<string[]> {
  return page.evaluate(
    (prefix) => Object.keys(localStorage).filter((key) => key.startsWith(prefix)),
    journalKeyPrefix(docId),
  )
}
