import { DOC_FRAGMENT, DOC_TITLE } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { LevelStore } from '../../src/persistence/LevelStore.ts'
import { LevelVersionStore } from '../../src/persistence/LevelVersionStore.ts'
import {
  createDoc,
  eventually,
  ourClient,
  stockClient,
  whenStockSynced,
  type CreatedDoc,
} from './support/clients.ts'
import { startTestServer, type TestServer } from './support/testServer.ts'

interface ListedVersion {
  readonly id: string
  readonly kind: 'auto' | 'named'
  readonly cause?: string
  readonly name?: string
  readonly authors: string[]
  readonly bytes: number
  readonly createdAt: string
}

/** Appends a paragraph holding `text` to the document, as the editor's schema writes one. */
function addParagraph(doc: Y.Doc, text: string): void {
  const paragraph = new Y.XmlElement('paragraph')
  paragraph.insert(0, [new Y.XmlText(text)])
  const fragment = doc.getXmlFragment(DOC_FRAGMENT)
  fragment.insert(fragment.length, [paragraph])
}

function paragraphs(doc: Y.Doc): string[] {
  return doc
    .getXmlFragment(DOC_FRAGMENT)
    .toArray()
    .map((node) => (node instanceof Y.XmlElement ? node.toArray().map(String).join('') : ''))
}

async function listVersions(
  server: TestServer,
  doc: CreatedDoc,
  token = doc.viewToken,
): Promise<ListedVersion[]> {
  const response = await fetch(`${server.url}/api/docs/${doc.id}/versions?k=${token}`)
  expect(response.status).toBe(200)
  return ((await response.json()) as { versions: ListedVersion[] }).versions
}

async function post(server: TestServer, path: string, token: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}?k=${token}`, {
    method: 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  })
}

/** A stock y-websocket editor named Ada, synced. */
async function ada(server: TestServer, doc: CreatedDoc) {
  const provider = stockClient(server.wsUrl, doc.id, doc.editToken)
  provider.awareness.setLocalStateField('user', { name: 'Ada', color: '#3366cc' })
  await whenStockSynced(provider)
  return provider
}

async function whenStored(server: TestServer, doc: CreatedDoc, version: number): Promise<void> {
  await eventually(async () => {
    const meta = (await (await fetch(`${server.url}/api/docs/${doc.id}?k=${doc.viewToken}`)).json()) as {
      version: number
    }
    expect(meta.version).toBeGreaterThanOrEqual(version)
  })
}

describe('version history', () => {
  it('[R62] a changed document gets an automatic version after a pause in editing, with its authors', async () => {
    const server = await startTestServer({ VERSION_PAUSE_MS: '200' })
    const doc = await createDoc(server.url)
    const editor = await ada(server, doc)
    addParagraph(editor.doc, 'first words')
    await eventually(async () => expect(await listVersions(server, doc)).toHaveLength(1))
    const [version] = await listVersions(server, doc)
    expect(version).toMatchObject({ kind: 'auto', cause: 'pause', authors: ['Ada'] })
    expect(version?.bytes).toBeGreaterThan(0)
    const text = await fetch(
      `${server.url}/api/docs/${doc.id}/versions/${version?.id}/content?format=text&k=${doc.viewToken}`,
    )
    expect(await text.text()).toContain('first words')
    // No new edit, no new version: the recorder only takes one of a changed document.
    await post(server, `/api/docs/${doc.id}/versions`, doc.editToken, { name: 'probe' })
    expect((await listVersions(server, doc)).filter((listed) => listed.kind === 'auto')).toHaveLength(1)
  })

  it('[R62] the last editor leaving a changed document gets it a version at once', async () => {
    const server = await startTestServer({ VERSION_PAUSE_MS: '600000' })
    const doc = await createDoc(server.url)
    const editor = await ada(server, doc)
    const viewer = ourClient(server.url, doc.id, doc.viewToken, { viewerName: 'Vic' })
    await viewer.whenSynced()
    addParagraph(editor.doc, 'written before leaving')
    await whenStored(server, doc, 1)
    expect(await listVersions(server, doc)).toHaveLength(0)
    editor.destroy()
    await eventually(async () =>
      expect(await listVersions(server, doc)).toMatchObject([
        { kind: 'auto', cause: 'left', authors: ['Ada'] },
      ]),
    )
  })

  it('[R62] named versions: saved by an editor, listed newest first, exported in every format', async () => {
    const server = await startTestServer({ VERSION_PAUSE_MS: '600000' })
    const doc = await createDoc(server.url)
    const editor = await ada(server, doc)
    editor.doc.getText(DOC_TITLE).insert(0, 'Plans')
    addParagraph(editor.doc, 'version one')
    await whenStored(server, doc, 1)
    const saved = await post(server, `/api/docs/${doc.id}/versions`, doc.editToken, {
      name: '  First draft  ',
    })
    expect(saved.status).toBe(201)
    const first = (await saved.json()) as ListedVersion
    expect(first).toMatchObject({ kind: 'named', name: 'First draft', authors: ['Ada'] })
    addParagraph(editor.doc, 'version two')
    await whenStored(server, doc, 2)
    await post(server, `/api/docs/${doc.id}/versions`, doc.editToken, { name: 'Second' })
    expect((await listVersions(server, doc)).map((listed) => listed.name)).toEqual(['Second', 'First draft'])

    const content = (format: string): Promise<Response> =>
      fetch(
        `${server.url}/api/docs/${doc.id}/versions/${first.id}/content?format=${format}&k=${doc.viewToken}`,
      )
    expect(await (await content('text')).text()).not.toContain('version two')
    const html = await content('html')
    expect(html.headers.get('content-type')).toContain('text/html')
    expect(await html.text()).toContain('<p>version one</p>')
    expect(await (await content('markdown')).text()).toContain('version one')
    const raw = await content('yjs')
    expect(raw.headers.get('content-type')).toBe('application/octet-stream')
    const copy = new Y.Doc()
    Y.applyUpdate(copy, new Uint8Array(await raw.arrayBuffer()))
    expect(paragraphs(copy)).toEqual(['version one'])
    expect(copy.getText(DOC_TITLE).toString()).toBe('Plans')

    expect((await content('pdf')).status).toBe(400)
    const unknown = await fetch(
      `${server.url}/api/docs/${doc.id}/versions/ffffffffffff/content?k=${doc.viewToken}`,
    )
    expect(unknown.status).toBe(404)
    const garbage = await fetch(`${server.url}/api/docs/${doc.id}/versions/..%2F/content?k=${doc.viewToken}`)
    expect(garbage.status).toBe(400)
    expect((await post(server, `/api/docs/${doc.id}/versions`, doc.editToken, { name: '   ' })).status).toBe(
      400,
    )
    expect(
      (await post(server, `/api/docs/${doc.id}/versions`, doc.editToken, { name: 'x'.repeat(101) })).status,
    ).toBe(400)
  })

  it('[R62] restore replaces text and title as one change every client sees, and is undone by restoring "before restore"', async () => {
    const server = await startTestServer({ VERSION_PAUSE_MS: '600000' })
    const doc = await createDoc(server.url)
    const editor = await ada(server, doc)
    const other = ourClient(server.url, doc.id, doc.editToken)
    const viewer = ourClient(server.url, doc.id, doc.viewToken, { viewerName: 'Vic' })
    await Promise.all([other.whenSynced(), viewer.whenSynced()])
    editor.doc.getText(DOC_TITLE).insert(0, 'Old title')
    addParagraph(editor.doc, 'old text')
    await whenStored(server, doc, 1)
    const old = (await (
      await post(server, `/api/docs/${doc.id}/versions`, doc.editToken, { name: 'Old' })
    ).json()) as ListedVersion
    editor.doc.transact(() => {
      const title = editor.doc.getText(DOC_TITLE)
      title.delete(0, title.length)
      title.insert(0, 'New title')
      addParagraph(editor.doc, 'new text')
    })
    await eventually(() => expect(paragraphs(viewer.doc)).toEqual(['old text', 'new text']))

    const restored = await post(server, `/api/docs/${doc.id}/versions/${old.id}/restore`, doc.editToken)
    expect(restored.status).toBe(200)
    const { before } = (await restored.json()) as { before: ListedVersion }
    expect(before).toMatchObject({ kind: 'auto', cause: 'before-restore' })
    for (const client of [editor.doc, other.doc, viewer.doc]) {
      await eventually(() => {
        expect(paragraphs(client)).toEqual(['old text'])
        expect(client.getText(DOC_TITLE).toString()).toBe('Old title')
      })
    }

    // Undo: restoring the version taken just before brings the newer text back, for everyone.
    expect(
      (await post(server, `/api/docs/${doc.id}/versions/${before.id}/restore`, doc.editToken)).status,
    ).toBe(200)
    for (const client of [editor.doc, other.doc, viewer.doc]) {
      await eventually(() => {
        expect(paragraphs(client)).toEqual(['old text', 'new text'])
        expect(client.getText(DOC_TITLE).toString()).toBe('New title')
      })
    }
    // Each restore kept what it replaced.
    const causes = (await listVersions(server, doc)).map((listed) => listed.cause ?? listed.name)
    expect(causes).toEqual(['before-restore', 'before-restore', 'Old'])
  })

  it('[R20][R62] a view link lists and reads versions but never saves or restores one', async () => {
    const server = await startTestServer({ VERSION_PAUSE_MS: '600000' })
    const doc = await createDoc(server.url)
    const saved = (await (
      await post(server, `/api/docs/${doc.id}/versions`, doc.editToken, { name: 'Empty' })
    ).json()) as ListedVersion
    for (const response of [
      await post(server, `/api/docs/${doc.id}/versions`, doc.viewToken, { name: 'Nope' }),
      await post(server, `/api/docs/${doc.id}/versions/${saved.id}/restore`, doc.viewToken),
    ]) {
      expect(response.status).toBe(403)
      expect(await response.json()).toMatchObject({ code: 4405 })
    }
    expect(await listVersions(server, doc, doc.viewToken)).toHaveLength(1)
    expect((await fetch(`${server.url}/api/docs/${doc.id}/versions`)).status).toBe(401)
    const otherDoc = await createDoc(server.url)
    expect((await fetch(`${server.url}/api/docs/${doc.id}/versions?k=${otherDoc.editToken}`)).status).toBe(
      403,
    )
  })

  it('[R35][R62] a shutdown takes the version of a changed document, its pause timer does not hold the server up, and the version survives the restart', async () => {
    const server = await startTestServer({ VERSION_PAUSE_MS: '600000' })
    const doc = await createDoc(server.url)
    const editor = await ada(server, doc)
    addParagraph(editor.doc, 'kept across a restart')
    await whenStored(server, doc, 1)
    const restarted = await server.restart()
    const [version, ...others] = await listVersions(restarted, doc)
    expect(others).toEqual([])
    expect(version).toMatchObject({ kind: 'auto', authors: ['Ada'] })
    const text = await fetch(
      `${restarted.url}/api/docs/${doc.id}/versions/${version?.id}/content?format=text&k=${doc.viewToken}`,
    )
    expect(await text.text()).toContain('kept across a restart')
  })

  it('[R55][R62] deleting a document deletes its versions', async () => {
    const server = await startTestServer({ VERSION_PAUSE_MS: '600000' })
    const doc = await createDoc(server.url)
    const kept = await createDoc(server.url)
    for (const target of [doc, kept]) {
      expect(
        (await post(server, `/api/docs/${target.id}/versions`, target.editToken, { name: 'v' })).status,
      ).toBe(201)
    }
    const deleted = await fetch(`${server.url}/api/docs/${doc.id}?k=${doc.editToken}`, { method: 'DELETE' })
    expect(deleted.status).toBe(204)
    await server.close()
    const store = await LevelStore.open({ dir: server.dataDir, syncWrites: false, compactAfterEntries: 500 })
    try {
      const versions = new LevelVersionStore(store.binarySublevel('versions'), { syncWrites: false })
      expect(await versions.list(doc.id)).toEqual([])
      expect(await versions.list(kept.id)).toHaveLength(1)
    } finally {
      await store.close()
    }
  })
})
