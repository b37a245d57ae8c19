import { describe, expect, it, onTestFinished } from 'vitest'
import { PgDatabase } from '../../src/persistence/postgres/PgDatabase.ts'
import { PostgresOutboxStore } from '../../src/webhooks/PostgresOutboxStore.ts'
import { webhookMigrations } from '../../src/webhooks/postgresSchema.ts'
import { createDoc, eventually, ourClient } from './support/clients.ts'
import { createTestDatabase } from './support/postgres.ts'
import { startTestServer, type TestServer } from './support/testServer.ts'
import {
  ADMIN_KEY,
  deliveryLog,
  startReceiver,
  startWebhookHarness,
  type DeliveryView,
  type Receiver,
} from './support/webhooks.ts'

/** A database of this test's own, dropped after it (after the servers on it have closed). */
async function testDatabase(): Promise<string> {
  const database = await createTestDatabase()
  onTestFinished(() => database.drop())
  return database.url
}

function api(base: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
}

async function register(server: TestServer, receiver: Receiver): Promise<string> {
  const response = await api(server.url, '/api/webhooks', { method: 'POST', body: { url: receiver.url } })
  expect(response.status).toBe(201)
  const { id, secret } = (await response.json()) as { id: string; secret: string }
  receiver.secret = secret
  return id
}

/** One editor types one word on `server` and waits until it is durable. */
async function edit(server: TestServer, doc: { id: string; editToken: string }, name: string): Promise<void> {
  const editor = ourClient(server.url, doc.id, doc.editToken)
  await editor.whenSynced()
  editor.awareness.setLocalStateField('user', { name })
  editor.doc.getText('t').insert(0, name)
  await eventually(() => expect(editor.status.save).toBe('saved'))
}

describe('webhooks across nodes on one PostgreSQL database', () => {
  it('[R67] edits on two nodes: every event delivered exactly once, signed, whichever node sent it', async () => {
    const env = {
      DATABASE_URL: await testDatabase(),
      ADMIN_API_KEY: ADMIN_KEY,
      WEBHOOK_ALLOW_PRIVATE: '1',
      WEBHOOK_DEBOUNCE_MS: '200',
    }
    const [a, b] = [await startTestServer(env), await startTestServer(env)]
    const receiver = await startReceiver()
    const endpointId = await register(a, receiver)
    // Registered through one node, known to the other at once.
    expect((await api(b.url, `/api/webhooks/${endpointId}`)).status).toBe(200)

    const shared = await createDoc(a.url)
    const own = await createDoc(b.url)
    await edit(a, shared, 'Ada')
    await edit(b, shared, 'Bo')
    await edit(b, own, 'Bo')

    // Two creations; each node reports its own editors' updates of the shared document.
    await receiver.waitFor(5)
    let log: DeliveryView[] = []
    await eventually(async () => {
      log = await deliveryLog({ api: (path) => api(b.url, path) }, endpointId)
      expect(log).toHaveLength(5)
      expect(log.every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true)
    })
    const ids = receiver.received.map((request) => String(request.headers['webhook-id']))
    expect(ids.sort()).toEqual(log.map((delivery) => delivery.id).sort())
    expect(receiver.received.every((request) => request.isVerified)).toBe(true)
    const events = receiver.received.map(({ payload }) => ({
      type: payload.type,
      docId: payload.data.docId,
      editors: payload.data.editors ?? null,
    }))
    expect(events).toEqual(
      expect.arrayContaining([
        { type: 'document.created', docId: shared.id, editors: null },
        { type: 'document.created', docId: own.id, editors: null },
        { type: 'document.updated', docId: shared.id, editors: ['Ada'] },
        { type: 'document.updated', docId: shared.id, editors: ['Bo'] },
        { type: 'document.updated', docId: own.id, editors: ['Bo'] },
      ]),
    )
  })

  it('[R67][R41] a links reset on one node revokes an endpoint registered on another a moment before', async () => {
    const env = { DATABASE_URL: await testDatabase(), ADMIN_API_KEY: ADMIN_KEY, WEBHOOK_ALLOW_PRIVATE: '1' }
    const [a, b] = [await startTestServer(env), await startTestServer(env)]
    const doc = await createDoc(a.url)
    const receiver = await startReceiver()
    const registered = await fetch(`${b.url}/api/docs/${doc.id}/webhooks?k=${doc.editToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, events: ['links.reset', 'document.updated'] }),
    })
    expect(registered.status).toBe(201)
    const { id, secret } = (await registered.json()) as { id: string; secret: string }
    receiver.secret = secret
    const reset = await fetch(`${a.url}/api/docs/${doc.id}/links/reset?k=${doc.editToken}`, {
      method: 'POST',
    })
    expect(reset.status).toBe(200)

    const [event] = await receiver.waitFor(1)
    expect(event?.payload).toMatchObject({ type: 'links.reset', data: { docId: doc.id } })
    expect(event?.isVerified).toBe(true)
    for (const node of [a, b]) {
      const endpoint = (await (await api(node.url, `/api/webhooks/${id}`)).json()) as { status: string }
      expect(endpoint.status).toBe('revoked')
    }
  })

  it('[R67] a node closed while its attempt is out: the other node sends the delivery at once, same webhook-id', async () => {
    const env = { DATABASE_URL: await testDatabase(), ADMIN_API_KEY: ADMIN_KEY, WEBHOOK_ALLOW_PRIVATE: '1' }
    const a = await startTestServer(env)
    const receiver = await startReceiver()
    receiver.respond = (index) => (index === 0 ? 'hang' : 200)
    const endpointId = await register(a, receiver)
    await createDoc(a.url)
    await receiver.waitFor(1)
    const b = await startTestServer(env)

    // The aborted attempt hands its claim back: no lease to wait out.
    await a.close()
    const [first, second] = await receiver.waitFor(2)
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id'])
    expect(second?.isVerified).toBe(true)
    await eventually(async () =>
      expect(await deliveryLog({ api: (path) => api(b.url, path) }, endpointId)).toMatchObject([
        { status: 'delivered', attempts: 1, lastResult: 'HTTP 200' },
      ]),
    )
  })

  it('[R67] a node closed during a backoff: the other node sends the retry when it is due', async () => {
    const env = { DATABASE_URL: await testDatabase(), ADMIN_API_KEY: ADMIN_KEY, WEBHOOK_ALLOW_PRIVATE: '1' }
    const a = await startTestServer(env)
    const receiver = await startReceiver()
    receiver.respond = (index) => (index === 0 ? 503 : 200)
    const endpointId = await register(a, receiver)
    await createDoc(a.url)
    await receiver.waitFor(1)
    await eventually(async () =>
      expect(await deliveryLog({ api: (path) => api(a.url, path) }, endpointId)).toMatchObject([
        { status: 'pending', attempts: 1, lastResult: 'HTTP 503' },
      ]),
    )
    const b = await startTestServer(env)
    await a.close()

    // The first retry waits 5 s ± 25 % (R44), whichever node sends it.
    const [first, retry] = await receiver.waitFor(2, 10_000)
    expect(retry?.headers['webhook-id']).toBe(first?.headers['webhook-id'])
    expect((retry?.receivedAt ?? 0) - (first?.receivedAt ?? 0)).toBeGreaterThanOrEqual(3_750)
    expect(retry?.isVerified).toBe(true)
    await eventually(async () =>
      expect(await deliveryLog({ api: (path) => api(b.url, path) }, endpointId)).toMatchObject([
        { status: 'delivered', attempts: 2, lastResult: 'HTTP 200' },
      ]),
    )
  }, 20_000)

  it('[R67] a node stalled past its claim’s lease: another node sends the delivery, and the stalled outcome is not recorded', async () => {
    const url = await testDatabase()
    const pools = [
      await PgDatabase.open(url, { migrations: webhookMigrations }),
      await PgDatabase.open(url, { migrations: webhookMigrations }),
    ]
    onTestFinished(async () => {
      for (const pool of pools) await pool.close()
    })
    // Whichever node claims first meets a receiver that never answers: to the other node it is
    // dead. Its attempt times out after 5 s, long after its 1.5 s claim ran out.
    const config = { claimLeaseMs: 1_500, timeoutMs: 5_000 }
    const nodes = await Promise.all(
      pools.map((pool) => startWebhookHarness({ config, outbox: new PostgresOutboxStore(pool) })),
    )
    const receiver = await startReceiver()
    receiver.respond = (index) => (index === 0 ? 'hang' : 200)
    const { id: endpointId, secret } = await nodes[0]!.register({
      url: receiver.url,
      events: ['document.created'],
    })
    receiver.secret = secret
    await nodes[0]!.createDoc()

    const [first, second] = await receiver.waitFor(2)
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id'])
    expect((second?.receivedAt ?? 0) - (first?.receivedAt ?? 0)).toBeGreaterThanOrEqual(1_400)
    expect(second?.isVerified).toBe(true)
    await eventually(
      () =>
        expect(
          nodes.flatMap((node) => node.logs).filter((line) => line.message.includes('not recorded')),
        ).toHaveLength(1),
      10_000,
    )
    expect(await deliveryLog(nodes[1]!, endpointId)).toMatchObject([
      { status: 'delivered', attempts: 1, lastResult: 'HTTP 200' },
    ])
    expect(receiver.received).toHaveLength(2)
    for (const node of nodes) await node.close()
  })
})
