import { CLOSE_REASONS } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import { eventually, ourClient, type CreatedDoc } from './support/clients.ts'
import { startTestServer } from './support/testServer.ts'

describe('REST API', () => {
  it('[R16] creates a document, returns metadata and its plain text', async () => {
    const server = await startTestServer()
    const created = await fetch(`${server.url}/api/docs`, { method: 'POST' })
    expect(created.status).toBe(201)
    const { id, url, editToken, viewToken, editUrl, viewUrl } = (await created.json()) as CreatedDoc & {
      url: string
      editUrl: string
      viewUrl: string
    }
    expect(url).toBe(`/d/${id}`)
    expect(editUrl).toBe(`/d/${id}?k=${editToken}`)
    expect(viewUrl).toBe(`/v/${id}?k=${viewToken}`)

    const editor = ourClient(server.url, id, editToken)
    await editor.whenSynced()
    const fragment = editor.doc.getXmlFragment('default')
    const { XmlElement, XmlText } = await import('yjs')
    const heading = new XmlElement('heading')
    heading.insert(0, [new XmlText('Title')])
    const paragraph = new XmlElement('paragraph')
    paragraph.insert(0, [new XmlText('Body text')])
    fragment.insert(0, [heading, paragraph])
    await eventually(() => expect(editor.status.save).toBe('saved'))

    const meta = (await (await fetch(`${server.url}/api/docs/${id}?k=${viewToken}`)).json()) as Record<
      string,
      unknown
    >
    expect(meta).toMatchObject({ id, connections: 1 })
    expect(meta.version).toBeGreaterThan(0)
    expect(meta.storedBytes).toBeGreaterThan(0)

    const textResponse = await fetch(`${server.url}/api/docs/${id}/text`, {
      headers: { Authorization: `Bearer ${viewToken}` },
    })
    expect(textResponse.headers.get('content-type')).toContain('text/plain')
    expect(await textResponse.text()).toBe('Title\nBody text')
  })

  it('[R3][R16] unknown ids are 404 and invalid ids 400, with a reason', async () => {
    const server = await startTestServer()
    const missing = await fetch(`${server.url}/api/docs/nope?k=e.x`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({
      error: CLOSE_REASONS.docNotFound.text,
      code: CLOSE_REASONS.docNotFound.code,
    })
    expect((await fetch(`${server.url}/api/docs/nope/text?k=e.x`)).status).toBe(404)
    expect((await fetch(`${server.url}/api/docs/${'x'.repeat(65)}`)).status).toBe(400)
    expect((await fetch(`${server.url}/api/docs/a!b`)).status).toBe(400)
  })

  it('[R16] /healthz answers ok', async () => {
    const server = await startTestServer()
    const response = await fetch(`${server.url}/healthz`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: 'ok' })
  })
})
