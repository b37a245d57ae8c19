import { test as base, expect, type APIRequestContext, type Browser, type Page } from '@playwright/test'
import { EditorPage } from './EditorPage.ts'
import { startProxy, type ProxyModes, type RestrictiveProxy } from './proxy.ts'
import { startServer, type TandemServer } from './server.ts'
import { ViewerPage } from './ViewerPage.ts'

/** A new document, as `POST /api/docs` answers: its id and both capability links. */
export interface CreatedDoc {
  readonly id: string
  readonly editToken: string
  readonly viewToken: string
  /** `/d/<id>?k=<editToken>` */
  readonly editUrl: string
  /** `/v/<id>?k=<viewToken>` */
  readonly viewUrl: string
}

/** One person at one browser: their own context (storage, cookies), page, editor and viewer. */
export interface Actor {
  readonly name: string
  readonly page: Page
  readonly editor: EditorPage
  readonly viewer: ViewerPage
  /** Opens an edit link as this person and waits until it is synced. */
  open(editLink: string): Promise<void>
  /** Opens a view link as this person and waits until it is synced. */
  view(viewLink: string): Promise<void>
  /** Closes the browser context, as when the person closes their browser. */
  close(): Promise<void>
  /** Uncaught exceptions in the page so far; the fixture fails the test unless this stays empty. */
  readonly errors: readonly string[]
}

/** Where an actor's browser reaches Tandem. */
export interface ActorOptions {
  /** The origin the actor's pages open on; defaults to the server itself. A proxy's url goes through it. */
  readonly baseURL?: string
}

interface Fixtures {
  /** A fresh server with an empty data directory, torn down after the test. */
  server: TandemServer
  /** Opens a new browser context for a named person; all are closed after the test. */
  newActor: (name: string, options?: ActorOptions) => Promise<Actor>
  /** Starts a restrictive proxy in front of the server (support/proxy.ts); all close after the test. */
  startProxy: (modes?: Partial<ProxyModes>) => Promise<RestrictiveProxy>
  /** Creates a document through the REST API and returns its id and links. */
  createDoc: () => Promise<CreatedDoc>
  /** The document's plain text on the server (`GET /api/docs/:id/text`), read with `token`. */
  serverText: (docId: string, token: string) => Promise<string>
}

export const test = base.extend<Fixtures>({
  // Playwright reads fixture dependencies from the destructuring pattern, so it must be there.
  // eslint-disable-next-line no-empty-pattern
  server: async ({}, use, testInfo) => {
    const server = await startServer()
    try {
      await use(server)
    } finally {
      if (testInfo.status !== testInfo.expectedStatus) {
        await testInfo.attach('server.log', { body: server.logs(), contentType: 'text/plain' })
      }
      await server.dispose()
    }
  },

  baseURL: async ({ server }, use) => {
    await use(server.url)
  },

  page: async ({ page }, use) => {
    const errors = collectPageErrors(page)
    await use(page)
    expect(errors, 'uncaught errors in the page').toEqual([])
  },

  newActor: ({ browser, server }, use) => provideActors(browser, server.url, use),

  startProxy: async ({ server }, use) => {
    const proxies: RestrictiveProxy[] = []
    await use(async (modes) => {
      const proxy = await startProxy(server.url, modes)
      proxies.push(proxy)
      return proxy
    })
    await Promise.all(proxies.map((proxy) => proxy.close()))
  },

  createDoc: async ({ request }, use) => {
    await use(async () => {
      const response = await request.post('/api/docs')
      if (response.status() !== 201) throw new Error(`POST /api/docs answered ${response.status()}`)
      return (await response.json()) as CreatedDoc
    })
  },

  serverText: async ({ request }, use) => {
    await use((docId, token) => readServerText(request, docId, token))
  },
})

export { expect }

/** A function that opens a named person's browser context (the `newActor` fixture). */
export type NewActor = Fixtures['newActor']

/**
 * The `newActor` fixture's body: hands `use` a function opening actors on `defaultBaseURL` (the
 * server, or a cluster's balancer), then closes them all and fails the test on page errors.
 */
export async function provideActors(
  browser: Browser,
  defaultBaseURL: string,
  use: (newActor: NewActor) => Promise<void>,
): Promise<void> {
  const actors: Actor[] = []
  await use(async (name, options = {}) => {
    const actor = await openActor(browser, options.baseURL ?? defaultBaseURL, name)
    actors.push(actor)
    return actor
  })
  await Promise.all(actors.map((actor) => actor.close()))
  for (const actor of actors) expect(actor.errors, `uncaught errors in ${actor.name}'s page`).toEqual([])
}

async function openActor(browser: Browser, baseURL: string, name: string): Promise<Actor> {
  const context = await browser.newContext({ baseURL })
  const page = await context.newPage()
  const editor = new EditorPage(page)
  const viewer = new ViewerPage(page)
  const errors = collectPageErrors(page)
  let isClosed = false
  return {
    name,
    page,
    editor,
    viewer,
    errors,
    open: (editLink) => editor.goto(editLink, name),
    view: (viewLink) => viewer.goto(viewLink, name),
    async close() {
      if (isClosed) return
      isClosed = true
      await context.close()
    },
  }
}

async function readServerText(request: APIRequestContext, docId: string, token: string): Promise<string> {
  const response = await request.get(`/api/docs/${docId}/text`, {
    headers: { Authorization: `Bearer ${token}` },
  })
  if (response.status() !== 200) throw new Error(`GET /api/docs/${docId}/text answered ${response.status()}`)
  return response.text()
}

/** A client crash should fail the test that caused it, not surface later as a confusing timeout. */
function collectPageErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.stack ?? error.message))
  return errors
}
