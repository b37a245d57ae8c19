import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'

/**
 * Where a webhook may be sent (SPEC R43). Tandem makes requests on behalf of whoever registered an
 * endpoint — with a document's edit token, that is anyone — so a target inside the server's own
 * network (loopback, private ranges, link-local, the cloud metadata service) would turn webhooks
 * into a way to reach services that trust the server's address. Every address a host name
 * resolves to is checked, at registration and again before every attempt, and the connection is
 * made to exactly the checked address (no second lookup an attacker's DNS could answer
 * differently).
 */
export type AddressClass =
  'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified' | 'multicast' | 'reserved'

export interface ResolvedAddress {
  readonly address: string
  readonly family: 4 | 6
}

export type ResolveHost = (hostname: string) => Promise<readonly ResolvedAddress[]>

export type TargetCheck =
  | { readonly ok: true; readonly url: URL; readonly addresses: readonly ResolvedAddress[] }
  | { readonly ok: false; readonly detail: string }

const MAX_URL_LENGTH = 2048

/** Cloud metadata services: never a target, even with WEBHOOK_ALLOW_PRIVATE. */
const METADATA_ADDRESSES = new Set([
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean
  '169.254.170.2', // AWS ECS task metadata
  '169.254.170.23', // AWS EKS pod identity
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud
  'fd00:ec2:0:0:0:0:0:254', // AWS over IPv6
])

const IPV4_RANGES: ReadonlyArray<readonly [string, number, AddressClass]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'private'], // carrier-grade NAT
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
]

/** The class of an IPv4 or IPv6 address; `reserved` for anything that does not parse. */
export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  if (isIP(bare) === 4) return classifyV4(v4ToNumber(bare))
  if (isIP(bare) === 6) return classifyV6(v6ToGroups(bare))
  return 'reserved'
}

/** Whether the class may be a target. Metadata, unspecified, multicast and reserved never may. */
export function isClassAllowed(addressClass: AddressClass, allowPrivate: boolean): boolean {
  switch (addressClass) {
    case 'public':
      return true
    case 'loopback':
    case 'private':
    case 'link-local':
      return allowPrivate
    case 'metadata':
    case 'unspecified':
    case 'multicast':
    case 'reserved':
      return false
  }
}

export const systemResolve: ResolveHost = async (hostname) => {
  const results = await lookup(hostname, { all: true, verbatim: true })
  return results.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }))
}

/** The address policy: a URL's syntax, then every address its host resolves to (R43). */
export class AddressPolicy {
  constructor(
    private readonly allowPrivate: boolean,
    private readonly resolve: ResolveHost = systemResolve,
  ) {}

  /** Syntax only: what can be said without DNS. */
  parse(raw: string): { ok: true; url: URL } | { ok: false; detail: string } {
    if (raw.length > MAX_URL_LENGTH) return { ok: false, detail: `URL longer than ${MAX_URL_LENGTH}` }
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      return { ok: false, detail: 'not a URL' }
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      return { ok: false, detail: 'only http and https URLs' }
    // Credentials in the URL would be shown in every listing; receivers verify the signature.
    if (url.username || url.password) return { ok: false, detail: 'no credentials in the URL' }
    if (!url.hostname) return { ok: false, detail: 'no host' }
    return { ok: true, url }
  }

  /** Parses and resolves `raw`; refuses it when any address is not allowed. */
  async check(raw: string): Promise<TargetCheck> {
    const parsed = this.parse(raw)
    if (!parsed.ok) return parsed
    const { url } = parsed
    // WHATWG URL parsing already turned 2130706433, 0x7f.1 and 127.1 into 127.0.0.1.
    const host = url.hostname.replace(/^\[|\]$/g, '')
    const name = host.replace(/\.$/, '')
    let addresses: readonly ResolvedAddress[]
    if (isIP(host)) {
      addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }]
    } else if (name === 'localhost' || name.endsWith('.localhost')) {
      // RFC 6761: always loopback, whatever a resolver says.
      if (!this.allowPrivate) return { ok: false, detail: `${host} is a loopback name` }
      addresses = await this.#resolve(host)
    } else {
      addresses = await this.#resolve(host)
    }
    if (addresses.length === 0) return { ok: false, detail: `${host} does not resolve` }
    // Any refused address refuses the host: a resolver that mixes a public address with a
    // private one is exactly what a rebinding attack looks like.
    for (const { address } of addresses) {
      const addressClass = classifyAddress(address)
      if (!isClassAllowed(addressClass, this.allowPrivate)) {
        const what = address === host ? address : `${host} resolves to ${address}`
        return { ok: false, detail: `${what}, a ${addressClass} address` }
      }
    }
    return { ok: true, url, addresses }
  }

  async #resolve(host: string): Promise<readonly ResolvedAddress[]> {
    try {
      return await this.resolve(host)
    } catch {
      return []
    }
  }
}

function classifyV4(value: number): AddressClass {
  if (METADATA_ADDRESSES.has(numberToV4(value))) return 'metadata'
  for (const [base, prefix, addressClass] of IPV4_RANGES) {
    const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0
    if ((value & mask) >>> 0 === v4ToNumber(base)) return addressClass
  }
  return 'public'
}

function classifyV6(groups: readonly number[]): AddressClass {
  const g = (index: number): number => groups[index] ?? 0
  if (METADATA_ADDRESSES.has(groups.map((group) => group.toString(16)).join(':'))) return 'metadata'
  const isZeroUpTo = (end: number): boolean => groups.slice(0, end).every((group) => group === 0)
  const embeddedV4 = ((g(6) << 16) | g(7)) >>> 0
  if (isZeroUpTo(8)) return 'unspecified'
  if (isZeroUpTo(7) && g(7) === 1) return 'loopback'
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d): the embedded IPv4 address decides.
  if (isZeroUpTo(5) && g(5) === 0xffff) return classifyV4(embeddedV4)
  if (isZeroUpTo(6)) return classifyV4(embeddedV4)
  // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address; its local-use prefix is private.
  if (g(0) === 0x64 && g(1) === 0xff9b && g(2) === 0 && g(3) === 0 && g(4) === 0 && g(5) === 0)
    return classifyV4(embeddedV4)
  if (g(0) === 0x64 && g(1) === 0xff9b && g(2) === 1) return 'private'
  // 6to4 (2002::/16) embeds the IPv4 address in bits 16–47.
  if (g(0) === 0x2002) return classifyV4(((g(1) << 16) | g(2)) >>> 0)
  if (g(0) === 0x2001 && g(1) === 0) return 'reserved' // Teredo
  if (g(0) === 0x2001 && g(1) === 0xdb8) return 'reserved' // documentation
  if (g(0) === 0x100 && g(1) === 0 && g(2) === 0 && g(3) === 0) return 'reserved' // discard
  if ((g(0) & 0xfe00) === 0xfc00) return 'private' // unique local fc00::/7 (fd00::/8)
  if ((g(0) & 0xffc0) === 0xfe80) return 'link-local'
  if ((g(0) & 0xffc0) === 0xfec0) return 'private' // deprecated site-local
  if ((g(0) & 0xff00) === 0xff00) return 'multicast'
  return 'public'
}

function v4ToNumber(address: string): number {
  return address.split('.').reduce((value, octet) => ((value << 8) | Number(octet)) >>> 0, 0)
}

function numberToV4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.')
}

/** Eight 16-bit groups of a valid IPv6 address (validated by `isIP` before). */
function v6ToGroups(address: string): number[] {
  let text = address.toLowerCase()
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted?.[1]) {
    const value = v4ToNumber(dotted[1])
    text =
      text.slice(0, -dotted[1].length) + `${(value >>> 16).toString(16)}:${(value & 0xffff).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const headGroups = head ? head.split(':') : []
  const tailGroups = tail ? tail.split(':') : []
  const missing = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length
  return [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups].map((group) =>
    parseInt(group, 16),
  )
}
