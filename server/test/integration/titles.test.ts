import { DOC_TITLE } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import { DocumentExporter } from '../../src/export/DocumentExporter.ts'
import * as Y from 'yjs'
import { EventIntake, type IntakeOptions } from '../../src/webhooks/intake.ts'
import type { OpenWindow } from '../../src/webhooks/debounce.ts'
import type { DeliveryRecord } from '../../src/webhooks/types.ts'
import { createDoc, eventually, ourClient } from './support/clients.ts'
import { startTestServer } from './support/testServer.ts'

const json = { 'Content-Type': 'application/json' }

describe('titles', () => {
  it('[R60] GET /api/docs/:id answers the title a client typed; untitled is ""', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const status = async () =>
      (
        (await (await fetch(`${server.url}/api/docs/${doc.id}?k=${doc.viewToken}`)).json()) as {
          title: string
        }
      ).title
    expect(await status()).toBe('')
    const editor = ourClient(server.url, doc.id, doc.editToken)
    await editor.whenSynced()
    // A stock client can write a line break; every reader sees one line.
    editor.doc.getText(DOC_TITLE).insert(0, 'Trip\nplan  2026')
    await eventually(async () => expect(await status()).toBe('Trip plan 2026'))
  })

  it('[R60] a document out of memory answers its title as it was unloaded, without loading it again', async () => {
    const server = await startTestServer({ ROOM_IDLE_MS: '50' })
    const doc = await createDoc(server.url)
    const title = async () =>
      (
        (await (await fetch(`${server.url}/api/docs/${doc.id}?k=${doc.viewToken}`)).json()) as {
          title: string
        }
      ).title
    const editor = ourClient(server.url, doc.id, doc.editToken)
    await editor.whenSynced()
    editor.doc.getText(DOC_TITLE).insert(0, 'Minutes')
    await eventually(async () => expect(await title()).toBe('Minutes'))
    editor.destroy()
    await eventually(() => expect(server.registry.loadedRoomCount).toBe(0))
    for (let poll = 0; poll < 3; poll++) {
      expect(await title()).toBe('Minutes')
      expect(server.registry.loadedRoomCount).toBe(0)
    }
    // After a restart nothing is remembered: the document is loaded once to read it.
    const restarted = await server.restart()
    const response = await fetch(`${restarted.url}/api/docs/${doc.id}?k=${doc.viewToken}`)
    expect(((await response.json()) as { title: string }).title).toBe('Minutes')
  })

  it('[R60] PUT /api/docs/:id/title sets it for connected editors; bad input is 400, a view link 403', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const editor = ourClient(server.url, doc.id, doc.editToken)
    await editor.whenSynced()
    const put = (body: unknown, token = doc.editToken) =>
      fetch(`${server.url}/api/docs/${doc.id}/title?k=${token}`, {
        method: 'PUT',
        headers: json,
        body: JSON.stringify(body),
      })

    const response = await put({ title: '  Budget\n2027  ' })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ id: doc.id, title: 'Budget 2027' })
    await eventually(() => expect(editor.doc.getText(DOC_TITLE).toString()).toBe('Budget 2027'))

    expect((await put({ title: 'x'.repeat(201) })).status).toBe(400)
    expect((await put({ title: 5 })).status).toBe(400)
    expect((await put({})).status).toBe(400)
    expect((await put({ title: 'nope' }, doc.viewToken)).status).toBe(403)
    expect(
      (
        await fetch(`${server.url}/api/docs/nope12345678/title?k=${doc.editToken}`, {
          method: 'PUT',
          headers: json,
          body: JSON.stringify({ title: 'x' }),
        })
      ).status,
    ).toBe(404)
    // A title of exactly the limit is kept whole.
    expect((await put({ title: 'y'.repeat(200) })).status).toBe(200)
    expect(editor.doc.getText(DOC_TITLE).length).toBeLessThanOrEqual(200)
  })

  it('[R60] exports: HTML is a whole page named by <title>, Markdown opens with front matter; JSON and text unchanged', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const get = async (format: string) =>
      (await fetch(`${server.url}/api/docs/${doc.id}/content?format=${format}&k=${doc.viewToken}`)).text()

    expect(await get('html')).toBe(
      '<!doctype html><html><head><meta charset="utf-8"><title>Untitled</title></head><body></body></html>',
    )
    expect(await get('markdown')).not.toContain('---')

    const title = '<script>alert("x")</script> & ---\n# not a heading'
    await fetch(`${server.url}/api/docs/${doc.id}/title?k=${doc.editToken}`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ title }),
    })
    const html = await get('html')
    expect(html).toMatch(/^<!doctype html><html><head><meta charset="utf-8"><title>/)
    expect(html).toContain(
      '<title>&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; --- # not a heading</title>',
    )
    expect(html).not.toContain('<script>')
    const markdown = await get('markdown')
    expect(
      markdown.startsWith('---\ntitle: "<script>alert(\\"x\\")</script> & --- # not a heading"\n---\n\n'),
    ).toBe(true)
    expect(JSON.parse(await get('json'))).toMatchObject({ type: 'doc' })
    expect(await get('text')).toBe('')
  })

  it('[R60] the exporter reads a title a hostile client made another type as untitled', () => {
    const doc = new Y.Doc()
    doc.getMap(DOC_TITLE).set('x', 1)
    expect(new DocumentExporter().render(doc, 'html')).toContain('<title>Untitled</title>')
  })
})

describe('webhook payloads', () => {
  it('[R60] document.updated carries the title when it can be read, and leaves it out when not', async () => {
    const bodies: string[] = []
    const options = (getTitle: IntakeOptions['getTitle']): IntakeOptions =>
      ({
        outbox: {
          enqueue: (deliveries: DeliveryRecord[]) => {
            bodies.push(...deliveries.map((delivery) => delivery.body))
            return Promise.resolve()
          },
          deleteWindow: () => Promise.resolve(),
        },
        endpoints: {
          matching: () => [{ id: 'ep1' }],
          pending: () => 0,
          addPending: () => undefined,
          addLogged: () => undefined,
          logged: () => 0,
        },
        debouncer: () => ({}),
        getMeta: () =>
          Promise.resolve({ version: 3, storedBytes: 10, updatedAt: 0, createdAt: 0, linkKey: 'k' }),
        ...(getTitle ? { getTitle } : {}),
        clock: { now: () => 0 },
        log: { info: () => undefined, warn: () => undefined, error: () => undefined },
        publicUrl: '',
        onQueued: () => undefined,
      }) as unknown as IntakeOptions
    const window = {
      docId: 'doc1',
      windowId: 'w',
      firstAt: 0,
      contributors: new Set(['Ann']),
    } as unknown as OpenWindow

    await new EventIntake(options(() => Promise.resolve('Plans'))).closeWindow(window)
    await new EventIntake(options(() => Promise.reject(new Error('gone')))).closeWindow(window)
    await new EventIntake(options(undefined)).closeWindow(window)
    const data = bodies.map((body) => (JSON.parse(body) as { data: Record<string, unknown> }).data)
    expect(data[0]).toMatchObject({ docId: 'doc1', title: 'Plans', version: 3 })
    expect(data[1]).not.toHaveProperty('title')
    expect(data[2]).not.toHaveProperty('title')
  })
})
