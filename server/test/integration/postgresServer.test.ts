import { afterEach, describe, expect, it } from 'vitest'
import { createDoc, eventually, ourClient, text } from './support/clients.ts'
import { createTestDatabase, type TestDatabase } from './support/postgres.ts'
import { startTestServer, type TestServer } from './support/testServer.ts'

let database: TestDatabase | null = null
const servers: TestServer[] = []

// Servers first: the database is dropped only once nobody uses it.
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
  await database?.drop()
  database = null
})

async function startOn(url: string): Promise<TestServer> {
  const server = await startTestServer({ DATABASE_URL: url })
  servers.push(server)
  return server
}

describe('a server on DATABASE_URL', () => {
  it('[R64] keeps documents, versions and share links in PostgreSQL across a restart and on another node', async () => {
    database = await createTestDatabase()
    const first = await startOn(database.url)
    const d = await createDoc(first.url)
    const writer = ourClient(first.url, d.id, d.editToken)
    await writer.whenSynced()
    for (let i = 0; i < 30; i++) writer.doc.getText('t').insert(text(writer.doc).length, `${i},`)
    await eventually(() => expect(writer.status.save).toBe('saved'))
    const named = await fetch(`${first.url}/api/docs/${d.id}/versions?k=${d.editToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Draft' }),
    })
    expect(named.status).toBe(201)
    const expected = text(writer.doc)
    writer.destroy()

    // The same node restarted on the same database (and DATA_DIR).
    const restarted = await first.restart()
    servers.push(restarted)
    const reader = ourClient(restarted.url, d.id, d.viewToken, { mode: 'view' })
    await reader.whenSynced()
    expect(text(reader.doc)).toBe(expected)
    await restarted.close()

    // Another node: a DATA_DIR of its own, so all it knows is in PostgreSQL. The links the first
    // node signed are valid here (one link secret), and the version is listed.
    const other = await startOn(database.url)
    expect(other.dataDir).not.toBe(first.dataDir)
    const again = ourClient(other.url, d.id, d.editToken)
    await again.whenSynced()
    expect(text(again.doc)).toBe(expected)
    const listed = (await (
      await fetch(`${other.url}/api/docs/${d.id}/versions?k=${d.viewToken}`)
    ).json()) as {
      versions: Array<{ name?: string }>
    }
    expect(listed.versions.map((version) => version.name)).toContain('Draft')
    const health = (await (await fetch(`${other.url}/readyz`)).json()) as { status: string }
    expect(health.status).toBe('ready')
  })
})
