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
 * Resolves once every write the page has started on the document's local copy is committed, so a
 * test can close the tab knowing what it typed is on disk (a person closes a tab some time after
 * the last key; a test does it within a millisecond). It relies on IndexedDB's scheduling: a
 * read-only transaction starts only after every read-write transaction created before it on the
 * same store has finished, whichever connection made it.
 */
export async function localWritesSettled(page: Page, docId: string): Promise<void> {
  await page.evaluate(
    (name) =>
      new Promise<void>((resolve, reject) => {
        const request = indexedDB.open(name)
        request.onerror = () => reject(request.error ?? new Error(`cannot open ${name}`))
        request.onsuccess = () => {
          const db = request.result
          const transaction = db.transaction('updates', 'readonly')
          transaction.objectStore('updates').count()
          transaction.oncomplete = () => {
            db.close()
            resolve()
          }
          transaction.onerror = () => {
            db.close()
            reject(transaction.error ?? new Error(`cannot read ${name}`))
          }
        }
      }),
    localReplicaName(docId),
  )
}
