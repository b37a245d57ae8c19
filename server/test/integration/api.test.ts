import { CLOSE_REASONS } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import { eventually, ourClient } from './support/clients.ts'
import { startTestServer } from './support/testServer.ts'

describe('REST API', () => {
  it('[R16] creates a document, returns metadata and its plain text', async () => {
    const server = await startTestServer()
    const created = await fetch(`${server.url}/api/docs`, { method: 'POST' })
    expect(created.status).toBe(201)
    const { id, url } = (await created.json()) as { id: string; url: string }
    expect(url).toBe(`/d/${id}`)

    const editor = ourClient(server.url, id)
    await editor.whenSynced()
    const fragment = editor.doc.getXmlFragment('default')
    const { XmlElement, XmlText } = await import('yjs')
    const heading = new XmlElement('heading')
    heading.insert(0, [new XmlText('Title')])
    const paragraph = new XmlElement('paragraph')
    paragraph.insert(0, [new XmlText('Body text')])
    fragment.insert(0, [heading, paragraph])
    await eventually(() => expect(editor.status.save).toBe('saved'))

    const meta = (await (await fetch(`${server.url}/api/docs/${id}`)).json()) as Record<string, unknown>
    expect(meta).toMatchObject({ id, connections: 1 })
    expect(meta.version).toBeGreaterThan(0)
    expect(meta.storedBytes).toBeGreaterThan(0)

    const textResponse = await fetch(`${server.url}/api/docs/${id}/text`)
    expect(textResponse.headers.get('content-type')).toContain('text/plain')
    expect(await textResponse.text()).toBe('Title\nBody text')
  })

  it('[R3][R16] unknown ids are 404 and invalid ids 400, with a reason', async () => {
    const server = await startTestServer()
    const missing = await fetch(`${server.url}/api/docs/nope`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({
      error: CLOSE_REASONS.docNotFound.text,
      code: CLOSE_REASONS.docNotFound.code,
    })
    expect((await fetch(`${server.url}/api/docs/nope/text`)).status).toBe(404)
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
