import { describe, expect, it } from 'vitest'
import { eventually } from './support/clients.ts'
import { ADMIN_KEY, deliveryLog, startReceiver, startWebhookHarness } from './support/webhooks.ts'

interface EndpointView {
  id: string
  url: string
  events: string[]
  docId: string | null
  source: string
  status: string
  statusReason: string | null
  secret?: string
}

describe('webhook endpoints', () => {
  it('[R41] registering needs the admin API key; the secret is shown once, never listed', async () => {
    const harness = await startWebhookHarness()
    const receiver = await startReceiver()
    const body = { url: receiver.url, events: ['document.created'] }

    const missing = await harness.api('/api/webhooks', { method: 'POST', body, token: null })
    expect(missing.status).toBe(401)
    expect(await missing.json()).toMatchObject({ code: 4401 })
    const wrong = await harness.api('/api/webhooks', { method: 'POST', body, token: `${ADMIN_KEY}x` })
    expect(wrong.status).toBe(403)
    expect((await harness.api('/api/webhooks', { token: 'e.not-admin' })).status).toBe(403)

    const created = await harness.api('/api/webhooks', { method: 'POST', body })
    expect(created.status).toBe(201)
    const endpoint = (await created.json()) as EndpointView
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/)
    expect(endpoint).toMatchObject({
      url: receiver.url,
      events: ['document.created'],
      docId: null,
      status: 'active',
    })

    const listed = (await (await harness.api('/api/webhooks')).json()) as { endpoints: EndpointView[] }
    expect(listed.endpoints.map((e) => e.id)).toEqual([endpoint.id])
    expect(JSON.stringify(listed)).not.toContain(endpoint.secret)
    const single = (await (await harness.api(`/api/webhooks/${endpoint.id}`)).json()) as EndpointView
    expect(JSON.stringify(single)).not.toContain('whsec_')

    expect((await harness.api(`/api/webhooks/${endpoint.id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await harness.api(`/api/webhooks/${endpoint.id}`)).status).toBe(404)
  })

  it('[R41] with ADMIN_API_KEY unset the admin routes are off, edit tokens still manage their document', async () => {
    const harness = await startWebhookHarness({ config: { adminApiKey: null } })
    const receiver = await startReceiver()
    const doc = await harness.createDoc()
    const refused = await harness.api('/api/webhooks', { method: 'POST', body: { url: receiver.url } })
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as { error: string }).error).toContain('ADMIN_API_KEY')
    const created = await harness.register({ url: receiver.url, docId: doc.id }, doc.editToken)
    expect(created.secret).toMatch(/^whsec_/)
  })

  it('[R41] a document edit token manages only that document’s endpoints; view tokens are refused', async () => {
    const harness = await startWebhookHarness()
    const receiver = await startReceiver()
    const doc = await harness.createDoc()
    const other = await harness.createDoc()
    const base = `/api/docs/${doc.id}/webhooks`

    const viewOnly = await harness.api(base, {
      method: 'POST',
      body: { url: receiver.url },
      token: doc.viewToken,
    })
    expect(viewOnly.status).toBe(403)
    expect(await viewOnly.json()).toMatchObject({ code: 4405 })
    const otherToken = await harness.api(base, {
      method: 'POST',
      body: { url: receiver.url },
      token: other.editToken,
    })
    expect(otherToken.status).toBe(403)
    expect(await otherToken.json()).toMatchObject({ code: 4403 })
    expect((await harness.api(base, { token: null })).status).toBe(401)
    expect((await harness.api(`/api/docs/nope/webhooks`, { token: doc.editToken })).status).toBe(404)

    const mine = await harness.register({ url: receiver.url, docId: doc.id }, doc.editToken)
    const admins = await harness.register({ url: receiver.url, docId: other.id })
    const listed = (await (await harness.api(base, { token: doc.editToken })).json()) as {
      endpoints: EndpointView[]
    }
    expect(listed.endpoints.map((e) => e.id)).toEqual([mine.id])
    expect(listed.endpoints[0]).toMatchObject({ docId: doc.id, source: 'edit-token' })
    // Another document's endpoint does not exist as far as this token is concerned.
    expect((await harness.api(`${base}/${admins.id}`, { token: doc.editToken })).status).toBe(404)
    expect(
      (await harness.api(`${base}/${admins.id}`, { method: 'DELETE', token: doc.editToken })).status,
    ).toBe(404)
    // The admin sees all of them.
    const all = (await (await harness.api('/api/webhooks')).json()) as { endpoints: EndpointView[] }
    expect(all.endpoints.map((e) => e.id).sort()).toEqual([mine.id, admins.id].sort())
    expect((await harness.api(`${base}/${mine.id}`, { method: 'DELETE', token: doc.editToken })).status).toBe(
      204,
    )
  })

  it('[R41] validates the body: unknown events, bad document ids, unknown documents', async () => {
    const harness = await startWebhookHarness()
    const receiver = await startReceiver()
    const post = (body: unknown) => harness.api('/api/webhooks', { method: 'POST', body })
    expect((await post({ url: receiver.url, events: ['document.exploded'] })).status).toBe(400)
    expect((await post({ url: receiver.url, events: [] })).status).toBe(400)
    expect((await post({ url: 'ftp://example.com/' })).status).toBe(422)
    expect((await post({ url: 'not a url' })).status).toBe(422)
    expect((await post({ events: ['document.created'] })).status).toBe(400)
    expect((await post({ url: receiver.url, docId: 'a!b' })).status).toBe(400)
    expect((await post({ url: receiver.url, docId: 'missing' })).status).toBe(404)
  })

  it('[R41] WEBHOOK_URL configures an endpoint that is listed, delivers, and cannot be removed by the API', async () => {
    const receiver = await startReceiver()
    const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`
    receiver.secret = secret
    const harness = await startWebhookHarness({
      config: { envEndpoint: { url: receiver.url, secret, events: ['document.created'] } },
    })
    const listed = (await (await harness.api('/api/webhooks')).json()) as { endpoints: EndpointView[] }
    expect(listed.endpoints).toEqual([
      expect.objectContaining({ id: 'ep_env', source: 'env', url: receiver.url }),
    ])
    const doc = await harness.createDoc()
    const [request] = await receiver.waitFor(1)
    expect(request?.isVerified).toBe(true)
    expect(request?.payload).toMatchObject({ type: 'document.created', data: { docId: doc.id } })
    expect((await harness.api('/api/webhooks/ep_env', { method: 'DELETE' })).status).toBe(409)

    // Unset on the next start: gone.
    const restarted = await harness.restart({ config: { envEndpoint: null } })
    const after = (await (await restarted.api('/api/webhooks')).json()) as { endpoints: EndpointView[] }
    expect(after.endpoints).toEqual([])
  })

  it('[R41][R55] a delete revokes endpoints registered with the document’s edit token, after telling them', async () => {
    const harness = await startWebhookHarness()
    const receiver = await startReceiver()
    const other = await harness.createDoc()
    const doc = await harness.createDoc()
    const byToken = await harness.register({ url: receiver.url, docId: doc.id }, doc.editToken)
    const otherByToken = await harness.register({ url: receiver.url, docId: other.id }, other.editToken)
    receiver.secret = byToken.secret

    // As DELETE /api/docs/:id does: the store removes it, then the event is emitted.
    expect(await harness.docs.delete(doc.id)).toBe(true)
    harness.events.emit({ type: 'document.deleted', docId: doc.id, at: Date.now() })
    const [told] = await receiver.waitFor(1)
    expect(told?.payload).toMatchObject({ type: 'document.deleted', data: { docId: doc.id } })
    expect(told?.isVerified).toBe(true)

    const view = (await (await harness.api(`/api/webhooks/${byToken.id}`)).json()) as EndpointView
    expect(view).toMatchObject({ status: 'revoked' })
    expect(view.statusReason).toContain('deleted')
    expect(
      ((await (await harness.api(`/api/webhooks/${otherByToken.id}`)).json()) as EndpointView).status,
    ).toBe('active')
  })

  it('[R41] a links reset revokes endpoints registered with the old edit token, after telling them', async () => {
    const harness = await startWebhookHarness()
    const receiver = await startReceiver()
    const adminReceiver = await startReceiver()
    const doc = await harness.createDoc()
    const byToken = await harness.register({ url: receiver.url, docId: doc.id }, doc.editToken)
    const byAdmin = await harness.register({ url: adminReceiver.url, docId: doc.id })
    receiver.secret = byToken.secret

    const fresh = await harness.resetLinks(doc.id)
    const [told] = await receiver.waitFor(1)
    expect(told?.payload).toMatchObject({ type: 'links.reset', data: { docId: doc.id } })
    expect(told?.isVerified).toBe(true)
    // No token, old or new, travels in the event.
    expect(told?.body).not.toContain(fresh.editToken)
    expect(told?.body).not.toContain(doc.editToken)

    const view = (await (await harness.api(`/api/webhooks/${byToken.id}`)).json()) as EndpointView
    expect(view).toMatchObject({ status: 'revoked' })
    expect(view.statusReason).toContain('reset')
    expect(await (await harness.api(`/api/webhooks/${byAdmin.id}`)).json()).toMatchObject({
      status: 'active',
    })
    // The old token manages nothing any more; the new one can remove the revoked endpoint.
    const base = `/api/docs/${doc.id}/webhooks`
    expect((await harness.api(base, { token: doc.editToken })).status).toBe(403)
    expect(
      (await harness.api(`${base}/${byToken.id}/enable`, { method: 'POST', token: fresh.editToken })).status,
    ).toBe(409)
    expect(
      (await harness.api(`${base}/${byToken.id}`, { method: 'DELETE', token: fresh.editToken })).status,
    ).toBe(204)

    // Revoked endpoints get nothing more.
    await harness.persist(doc.id)
    await adminReceiver.waitFor(2)
    expect(receiver.received).toHaveLength(1)
  })
})

describe('webhook signing and payloads', () => {
  it('[R42] every delivery verifies with the standardwebhooks package and carries only our headers', async () => {
    const harness = await startWebhookHarness()
    const receiver = await startReceiver()
    const { secret } = await harness.register({ url: receiver.url })
    receiver.secret = secret
    const doc = await harness.createDoc()
    await harness.persist(doc.id, ['Ada'])
    // Deleting cancels an update still being debounced: let it go out first.
    await receiver.waitFor(2)
    await harness.resetLinks(doc.id)
    harness.events.emit({ type: 'document.deleted', docId: doc.id, at: Date.now() })

    const received = await receiver.waitFor(4)
    expect(received.map((r) => r.payload.type).sort()).toEqual(
      ['document.created', 'document.deleted', 'document.updated', 'links.reset'].sort(),
    )
    for (const request of received) {
      expect(request.isVerified).toBe(true)
      expect(request.headers['webhook-id']).toMatch(/^msg_[0-9a-f]+$/)
      expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/)
      expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30)
      expect(request.headers['content-type']).toBe('application/json')
      expect(request.headers['user-agent']).toBe('Tandem-Webhooks/1')
      // What Node's HTTP client adds to every request: one connection per attempt (§9.4).
      expect(request.headers.host).toBe(new URL(receiver.url).host)
      expect(request.headers['content-length']).toBe(String(Buffer.byteLength(request.body)))
      expect(request.headers.connection).toBe('close')
      // Never the caller's credentials or cookies (R42).
      expect(request.headers.authorization).toBeUndefined()
      expect(request.headers.cookie).toBeUndefined()
      expect(Object.keys(request.headers).sort()).toEqual(
        [
          'connection',
          'content-length',
          'content-type',
          'host',
          'user-agent',
          'webhook-id',
          'webhook-signature',
          'webhook-timestamp',
        ].sort(),
      )
      expect(request.body).not.toContain(doc.editToken)
      expect(request.body).not.toContain(doc.viewToken)
      expect(request.body).not.toContain(ADMIN_KEY)
    }
    // Distinct events have distinct ids.
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(4)

    // A wrong secret does not verify: the receiver really checks.
    receiver.secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`
    const other = await harness.createDoc()
    await receiver.waitFor(5)
    expect(receiver.received[4]?.payload.data.docId).toBe(other.id)
    expect(receiver.received[4]?.isVerified).toBe(false)
  })

  it('[R40][R42] document.updated says which document, version, size, editors and where to fetch it — no content', async () => {
    const harness = await startWebhookHarness({ config: { publicUrl: 'https://tandem.example.com/' } })
    const receiver = await startReceiver()
    const { secret } = await harness.register({ url: receiver.url, events: ['document.updated'] })
    receiver.secret = secret
    const doc = await harness.createDoc()
    await harness.persist(doc.id, ['Ada'])
    await harness.persist(doc.id, ['Grace'])
    await harness.persist(doc.id, ['Ada'])
    const [update] = await receiver.waitFor(1)
    const meta = await harness.docs.getMeta(doc.id)
    expect(update?.isVerified).toBe(true)
    expect(update?.payload).toEqual({
      type: 'document.updated',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      data: {
        docId: doc.id,
        version: meta?.version,
        storedBytes: meta?.storedBytes,
        updatedAt: new Date(meta?.updatedAt ?? 0).toISOString(),
        editors: ['Ada', 'Grace'],
        contentUrl: `https://tandem.example.com/api/docs/${doc.id}/text`,
      },
    })
    // The next window reports only who edited since.
    await harness.persist(doc.id, ['Linus'])
    const [, next] = await receiver.waitFor(2)
    expect(next?.payload.data).toMatchObject({ editors: ['Linus'], version: 4 })
  })

  it('[R41] endpoints receive only the events they asked for, for their document only', async () => {
    const harness = await startWebhookHarness()
    const all = await startReceiver()
    const scoped = await startReceiver()
    const doc = await harness.createDoc()
    const other = await harness.createDoc()
    await harness.register({ url: all.url, events: ['links.reset'] })
    await harness.register({ url: scoped.url, docId: doc.id, events: ['links.reset', 'document.updated'] })
    await harness.resetLinks(other.id)
    await harness.resetLinks(doc.id)
    await all.waitFor(2)
    await scoped.waitFor(1)
    await harness.persist(doc.id)
    await scoped.waitFor(2)
    // Deliveries run concurrently: no order between them is promised.
    expect(all.received.map((r) => r.payload.data.docId).sort()).toEqual([other.id, doc.id].sort())
    expect(scoped.received.map((r) => [r.payload.type, r.payload.data.docId])).toEqual([
      ['links.reset', doc.id],
      ['document.updated', doc.id],
    ])
  })
})

describe('webhook delivery log and replay', () => {
  it('[R46] a failed delivery can be replayed; it is sent again with the same webhook-id', async () => {
    const harness = await startWebhookHarness()
    const receiver = await startReceiver()
    const { id, secret } = await harness.register({ url: receiver.url, events: ['document.created'] })
    receiver.secret = secret
    receiver.respond = (index) => (index === 0 ? 400 : 200)
    await harness.createDoc()
    await receiver.waitFor(1)
    let log: Awaited<ReturnType<typeof deliveryLog>> = []
    await eventually(async () => {
      log = await deliveryLog(harness, id)
      expect(log[0]).toMatchObject({ status: 'failed', attempts: 1, lastResult: 'HTTP 400' })
    })
    expect(log[0]?.failedReason).toContain('400')
    const deliveryId = log[0]?.id ?? ''

    const replay = await harness.api(`/api/webhooks/${id}/deliveries/${deliveryId}/replay`, {
      method: 'POST',
    })
    expect(replay.status).toBe(202)
    const [first, second] = await receiver.waitFor(2)
    expect(second?.headers['webhook-id']).toBe(deliveryId)
    expect(first?.headers['webhook-id']).toBe(deliveryId)
    expect(second?.body).toBe(first?.body)
    expect(second?.isVerified).toBe(true)
    await eventually(async () =>
      expect((await deliveryLog(harness, id))[0]).toMatchObject({ status: 'delivered', attempts: 2 }),
    )
    // Only failed deliveries are replayed.
    const again = await harness.api(`/api/webhooks/${id}/deliveries/${deliveryId}/replay`, { method: 'POST' })
    expect(again.status).toBe(409)
    // One delivery in detail, with the exact payload that was sent.
    const detail = (await (await harness.api(`/api/webhooks/${id}/deliveries/${deliveryId}`)).json()) as {
      payload: unknown
    }
    expect(detail.payload).toEqual(JSON.parse(first?.body ?? 'null'))
    expect((await harness.api(`/api/webhooks/${id}/deliveries/msg_nope`)).status).toBe(404)
  })
})
