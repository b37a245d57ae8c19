import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'
import type { ResolvedAddress } from './addressPolicy.ts'

/**
 * One attempt to send: the checked target and the signed headers (R42). `sendHttp` adds only
 * `content-type`, `content-length`, `user-agent` and `connection: close`, and Node's client `host`
 * (docs/PROTOCOL.md §9.3): nothing else reaches the receiver.
 */
export interface OutgoingRequest {
  readonly url: URL
  /** The addresses the policy checked; the connection goes to one of these and nowhere else. */
  readonly addresses: readonly ResolvedAddress[]
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly timeoutMs: number
}

export type SendOutcome =
  | {
      readonly kind: 'response'
      readonly status: number
      /** From `Retry-After` on 429/503, when present and parseable. */
      readonly retryAfterMs: number | null
    }
  | { readonly kind: 'timeout'; readonly afterMs: number }
  | { readonly kind: 'network'; readonly code: string }
  /** The worker is closing; the attempt does not count and the delivery stays pending. */
  | { readonly kind: 'aborted' }

/** The HTTP boundary of the worker; tests may inject one, production uses `sendHttp`. */
export type Send = (request: OutgoingRequest, signal: AbortSignal) => Promise<SendOutcome>

const USER_AGENT = 'Tandem-Webhooks/1'

/**
 * POSTs the body with Node's http/https client. Redirects are never followed (a 3xx is just a
 * status): following one would reach an address nobody checked (R43). The whole attempt —
 * connect, TLS, response headers — is bounded by `timeoutMs`; the response body is not read.
 */
export const sendHttp: Send = (outgoing, signal) =>
  new Promise<SendOutcome>((resolve) => {
    if (signal.aborted) return resolve({ kind: 'aborted' })
    const { url } = outgoing
    const options: RequestOptions = {
      method: 'POST',
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      // A fresh connection per attempt: nothing pooled outlives the address check it was made for.
      agent: false,
      lookup: pinnedLookup(outgoing.addresses),
      headers: {
        ...outgoing.headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(outgoing.body)),
        'user-agent': USER_AGENT,
        connection: 'close',
      },
    }
    let isSettled = false
    const settle = (outcome: SendOutcome): void => {
      if (isSettled) return
      isSettled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      request.destroy()
      resolve(outcome)
    }
    const onAbort = (): void => settle({ kind: 'aborted' })
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(options)
    const timer = setTimeout(
      () => settle({ kind: 'timeout', afterMs: outgoing.timeoutMs }),
      outgoing.timeoutMs,
    )
    signal.addEventListener('abort', onAbort, { once: true })
    request.on('response', (response: IncomingMessage) => {
      const status = response.statusCode ?? 0
      response.on('error', () => undefined)
      settle({ kind: 'response', status, retryAfterMs: retryAfterMs(status, response) })
    })
    request.on('error', (error: NodeJS.ErrnoException) =>
      settle({ kind: 'network', code: error.code ?? error.message }),
    )
    request.end(outgoing.body)
  })

/** A `lookup` that answers with the already-checked addresses instead of asking DNS again. */
function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = typeof options === 'object' ? options.family : undefined
    const wanted = addresses.filter((entry) => !family || entry.family === family)
    const first = wanted[0]
    if (!first) {
      const error: NodeJS.ErrnoException = new Error('no checked address of the requested family')
      error.code = 'ENOTFOUND'
      callback(error, '', 4)
      return
    }
    if (typeof options === 'object' && options.all) {
      ;(callback as unknown as (error: null, all: ResolvedAddress[]) => void)(null, [...wanted])
    } else {
      callback(null, first.address, first.family)
    }
  }
}

function retryAfterMs(status: number, response: IncomingMessage): number | null {
  if (status !== 429 && status !== 503) return null
  const header = response.headers['retry-after']
  if (!header) return null
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(header)
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now())
}
