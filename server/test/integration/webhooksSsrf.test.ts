import { describe, expect, it } from 'vitest'
import { AddressPolicy, classifyAddress, systemResolve } from '../../src/webhooks/addressPolicy.ts'
import { eventually } from './support/clients.ts'
import { deliveryLog, startReceiver, startWebhookHarness } from './support/webhooks.ts'

/** Every class the issue names, plus the spellings that dodge naive string checks. */
const REFUSED_TARGETS: ReadonlyArray<readonly [string, string]> = [
  ['http://127.0.0.1/hook', 'loopback'],
  ['http://127.1.2.3:8080/hook', 'loopback'],
  ['http://2130706433/hook', 'loopback'], // 127.0.0.1 as one decimal number
  ['http://0x7f.0.0.1/hook', 'loopback'],
  ['http://[::1]/hook', 'loopback'],
  ['http://[::ffff:127.0.0.1]/hook', 'loopback'],
  ['http://10.0.0.1/hook', 'private'],
  ['http://10.255.255.254/hook', 'private'],
  ['http://172.16.0.1/hook', 'private'],
  ['http://172.31.255.1/hook', 'private'],
  ['http://192.168.1.1/hook', 'private'],
  ['http://100.64.0.1/hook', 'private'],
  ['http://169.254.169.254/latest/meta-data/', 'metadata'],
  ['http://[::ffff:169.254.169.254]/', 'metadata'],
  ['http://[fd00:ec2::254]/', 'metadata'],
  ['http://169.254.1.1/hook', 'link-local'],
  ['http://[fd00::1]/hook', 'private'],
  ['http://[fd12:3456::1]/hook', 'private'],
  ['http://[fe80::1]/hook', 'link-local'],
  ['http://0.0.0.0/hook', 'unspecified'],
  ['http://[::]/hook', 'unspecified'],
  ['http://224.0.0.1/hook', 'multicast'],
  ['http://[64:ff9b::a00:1]/hook', 'private'], // NAT64 of 10.0.0.1
  ['http://[2002:c0a8:101::1]/hook', 'private'], // 6to4 of 192.168.1.1
]

describe('webhook target addresses', () => {
  it('[R43] classifies each address class', () => {
    const cases: Record<string, string> = {
      '127.0.0.1': 'loopback',
      '::1': 'loopback',
      '10.1.2.3': 'private',
      '172.16.0.1': 'private',
      '172.32.0.1': 'public',
      '192.168.0.1': 'private',
      '169.254.169.254': 'metadata',
      '169.254.0.1': 'link-local',
      'fd00::1': 'private',
      'fc00::1': 'private',
      'fe80::1%eth0': 'link-local',
      '0.0.0.0': 'unspecified',
      '::': 'unspecified',
      '::ffff:10.0.0.1': 'private',
      '::ffff:8.8.8.8': 'public',
      '8.8.8.8': 'public',
      '2606:4700:4700::1111': 'public',
      'ff02::1': 'multicast',
      '255.255.255.255': 'reserved',
      'not-an-address': 'reserved',
    }
    for (const [address, expected] of Object.entries(cases))
      expect(classifyAddress(address), address).toBe(expected)
  })

  it('[R43] registration refuses loopback, private, link-local and metadata targets, each class', async () => {
    const harness = await startWebhookHarness({ config: { allowPrivate: false } })
    for (const [url, addressClass] of REFUSED_TARGETS) {
      const response = await harness.api('/api/webhooks', { method: 'POST', body: { url } })
      expect(response.status, url).toBe(422)
      const body = (await response.json()) as { error: string; code: number }
      expect(body.code).toBe(4422)
      expect(body.error, url).toContain(`a ${addressClass} address`)
    }
    const endpoints = (await (await harness.api('/api/webhooks')).json()) as { endpoints: unknown[] }
    expect(endpoints.endpoints).toEqual([])
  })

  it('[R43] a host name that resolves to loopback is refused: localhost, and any name DNS points inside', async () => {
    const harness = await startWebhookHarness({
      config: { allowPrivate: false },
      resolveHost: (hostname) =>
        Promise.resolve(
          hostname === 'internal.example.com'
            ? [{ address: '10.0.0.7', family: 4 as const }]
            : hostname === 'mixed.example.com'
              ? [
                  { address: '93.184.215.14', family: 4 as const },
                  { address: '127.0.0.1', family: 4 as const },
                ]
              : hostname === 'sneaky.localhost'
                ? [{ address: '93.184.215.14', family: 4 as const }]
                : [],
        ),
    })
    const refusal = async (url: string): Promise<string> => {
      const response = await harness.api('/api/webhooks', { method: 'POST', body: { url } })
      expect(response.status, url).toBe(422)
      return ((await response.json()) as { error: string }).error
    }
    expect(await refusal('http://localhost:1234/hook')).toContain('loopback')
    expect(await refusal('http://sneaky.localhost/hook')).toContain('loopback')
    expect(await refusal('https://internal.example.com/hook')).toContain(
      'resolves to 10.0.0.7, a private address',
    )
    // One bad address among good ones is enough to refuse (what DNS rebinding looks like).
    expect(await refusal('https://mixed.example.com/hook')).toContain('127.0.0.1')
    expect(await refusal('https://nowhere.example.com/hook')).toContain('does not resolve')
  })

  it('[R43] with the system resolver: localhost (any spelling) is refused, and resolves to loopback anyway', async () => {
    const policy = new AddressPolicy(false)
    for (const url of ['http://localhost/hook', 'http://LOCALHOST./hook', 'http://api.localhost:8080/']) {
      const check = await policy.check(url)
      expect(check.ok ? '' : check.detail, url).toMatch(/loopback/)
    }
    // Without the name rule, the addresses themselves would be refused.
    const addresses = await systemResolve('localhost')
    expect(addresses.length).toBeGreaterThan(0)
    for (const { address } of addresses) expect(classifyAddress(address)).toBe('loopback')
  })

  it('[R43] WEBHOOK_ALLOW_PRIVATE allows loopback and private targets but never the metadata service', async () => {
    const harness = await startWebhookHarness({ config: { allowPrivate: true } })
    const receiver = await startReceiver()
    expect((await harness.api('/api/webhooks', { method: 'POST', body: { url: receiver.url } })).status).toBe(
      201,
    )
    expect(
      (await harness.api('/api/webhooks', { method: 'POST', body: { url: 'http://10.0.0.1/' } })).status,
    ).toBe(201)
    for (const url of [
      'http://169.254.169.254/',
      'http://0.0.0.0/',
      'http://[fd00:ec2::254]/',
      'http://224.0.0.1/',
    ]) {
      expect((await harness.api('/api/webhooks', { method: 'POST', body: { url } })).status, url).toBe(422)
    }
  })

  it('[R43] the check runs again at send time: a target that became private is not contacted', async () => {
    const receiver = await startReceiver()
    // Registered while private targets were allowed …
    let harness = await startWebhookHarness({ config: { allowPrivate: true } })
    const { id } = await harness.register({ url: receiver.url, events: ['document.created'] })
    // … and sent after a restart that no longer allows them.
    harness = await harness.restart({ config: { allowPrivate: false } })
    await harness.createDoc()
    await eventually(async () =>
      expect((await deliveryLog(harness, id))[0]).toMatchObject({
        status: 'failed',
        attempts: 1,
        lastResult: 'refused: 127.0.0.1, a loopback address',
        failedReason: 'target address refused: 127.0.0.1, a loopback address',
      }),
    )
    expect(receiver.received).toHaveLength(0)
  })

  it('[R43] DNS rebinding: a name that resolved to a public address at registration and to loopback later is refused', async () => {
    const receiver = await startReceiver()
    const port = new URL(receiver.url).port
    let answer = '93.184.215.14'
    const harness = await startWebhookHarness({
      config: { allowPrivate: false },
      resolveHost: () => Promise.resolve([{ address: answer, family: 4 as const }]),
    })
    const { id } = await harness.register({
      url: `http://rebind.example.com:${port}/hook`,
      events: ['document.created'],
    })
    answer = '127.0.0.1'
    await harness.createDoc()
    await eventually(async () =>
      expect((await deliveryLog(harness, id))[0]?.lastResult).toBe(
        'refused: rebind.example.com resolves to 127.0.0.1, a loopback address',
      ),
    )
    expect(receiver.received).toHaveLength(0)
  })

  it('[R43] redirects are not followed: the target of a 3xx never hears from us', async () => {
    const harness = await startWebhookHarness({
      config: { retry: { baseDelayMs: 50, factor: 1, maxDelayMs: 50, maxRetries: 1, jitter: 0 } },
    })
    const redirector = await startReceiver()
    const target = await startReceiver()
    redirector.respond = () => 307
    redirector.responseHeaders = { location: target.url }
    const { id } = await harness.register({ url: redirector.url, events: ['document.created'] })
    await harness.createDoc()
    await eventually(async () =>
      expect((await deliveryLog(harness, id))[0]).toMatchObject({
        status: 'failed',
        attempts: 2,
        lastResult: 'HTTP 307 (redirect not followed)',
      }),
    )
    expect(redirector.received).toHaveLength(2)
    expect(target.received).toHaveLength(0)
  })
})
