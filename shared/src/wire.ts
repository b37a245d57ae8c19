/**
 * The URL and HTTP half of the wire (docs/PROTOCOL.md §2, §6, §8): the query keys of every
 * connection, the poll requests, the batch header and the event-stream framing. Pure and
 * symmetric: every encoder has its decoder, decoders throw only `ProtocolError`, and the client
 * and the server use the same functions.
 */
import { MAX_VIEWER_NAME_LENGTH } from './awareness.ts'
import { decodeBase64, decodeBase64Url, encodeBase64Url } from './base64.ts'
import { ProtocolError } from './protocol.ts'

/** What a client says when it opens a connection, on any transport. */
export interface ConnectParams {
  /** `k`: the share-link token (docs/PROTOCOL.md §7). */
  readonly token: string | null
  /** `ack=1`: the client wants Tandem's extension messages (saved acks, heartbeat; §1.3). */
  readonly wantsAcks: boolean
  /** `wk`: the editor's writer key (§2, SPEC R33, R36). */
  readonly writerKey: string | null
  /** `name`: a viewer's display name, at most MAX_VIEWER_NAME_LENGTH characters (SPEC R21). */
  readonly viewerName: string
  /** `sv`: base64url state vector a receive-only client already has (SPEC R22). */
  readonly stateVector: Uint8Array | null
  /** `probe=1`: a background check that the transport works, never shown as present (SPEC R26). */
  readonly isProbe: boolean
  /** `fallback=1`: the client fell back from WebSocket or SSE (SPEC R26, R51). */
  readonly isFallback: boolean
}

/** What decoders read a query through: `URLSearchParams` in browsers and Node alike. */
export interface QueryReader {
  get(name: string): string | null
}

/** `key=value&…`, each part percent-encoded as URLSearchParams and the URL parser read it. */
function queryString(entries: ReadonlyArray<readonly [string, string]>): string {
  return entries.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&')
}

const NO_PARAMS: ConnectParams = {
  token: null,
  wantsAcks: false,
  writerKey: null,
  viewerName: '',
  stateVector: null,
  isProbe: false,
  isFallback: false,
}

/** The query string (without `?`) of a connection URL; defaults are left out. */
export function encodeConnectParams(given: Partial<ConnectParams>): string {
  const params = { ...NO_PARAMS, ...given }
  const entries: Array<[string, string]> = []
  if (params.token !== null) entries.push(['k', params.token])
  if (params.wantsAcks) entries.push(['ack', '1'])
  if (params.viewerName) entries.push(['name', params.viewerName.slice(0, MAX_VIEWER_NAME_LENGTH)])
  if (params.writerKey) entries.push(['wk', params.writerKey])
  if (params.stateVector) entries.push(['sv', encodeBase64Url(params.stateVector)])
  if (params.isProbe) entries.push(['probe', '1'])
  if (params.isFallback) entries.push(['fallback', '1'])
  return queryString(entries)
}

/**
 * Reads a connection's query. Unknown keys are ignored (a stock client may add its own); a name
 * is cut to MAX_VIEWER_NAME_LENGTH; a state vector that is not base64url throws.
 */
export function decodeConnectParams(query: QueryReader): ConnectParams {
  const sv = query.get('sv')
  let stateVector: Uint8Array | null = null
  if (sv) {
    try {
      stateVector = decodeBase64Url(sv)
    } catch {
      throw new ProtocolError('sv is not base64url')
    }
  }
  return {
    token: query.get('k'),
    wantsAcks: query.get('ack') === '1',
    writerKey: query.get('wk') || null,
    viewerName: (query.get('name') ?? '').slice(0, MAX_VIEWER_NAME_LENGTH),
    stateVector,
    isProbe: query.get('probe') === '1',
    isFallback: query.get('fallback') === '1',
  }
}

/** One request of a long-poll session (docs/PROTOCOL.md §8). */
export interface PollRequest {
  readonly token: string | null
  /** POST: this batch's sequence number (1, 2, …); a retry repeats it. */
  readonly seq: number | null
  /** GET: the last batch the client received, acknowledging it (0: none). */
  readonly ack: number
  /** GET: `wait=0` answers at once (short polling, SPEC R27); otherwise the poll is held. */
  readonly isShort: boolean
}

export function encodePollRequest(given: Partial<PollRequest>): string {
  const entries: Array<[string, string]> = []
  if (given.token != null) entries.push(['k', given.token])
  if (given.seq != null) entries.push(['seq', String(given.seq)])
  if (given.ack !== undefined) entries.push(['ack', String(given.ack)])
  if (given.isShort) entries.push(['wait', '0'])
  return queryString(entries)
}

/** Reads a poll request; a `seq` or `ack` that is not a non-negative safe integer throws. */
export function decodePollRequest(query: QueryReader): PollRequest {
  const seq = query.get('seq')
  const ack = query.get('ack')
  return {
    token: query.get('k'),
    seq: seq === null ? null : counter(seq, 'seq'),
    ack: ack === null ? 0 : counter(ack, 'ack'),
    isShort: query.get('wait') === '0',
  }
}

/** The response header that numbers a poll's batch of frames (docs/PROTOCOL.md §8). */
export const BATCH_HEADER = 'X-Tandem-Batch'

export function encodeBatchHeader(seq: number): string {
  return String(seq)
}

export function decodeBatchHeader(value: string | null): number {
  if (value === null) throw new ProtocolError(`missing ${BATCH_HEADER}`)
  return counter(value, BATCH_HEADER)
}

function counter(text: string, name: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) throw new ProtocolError(`${name} is not a counter`)
  const value = Number(text)
  if (!Number.isSafeInteger(value)) throw new ProtocolError(`${name} is out of range`)
  return value
}

/** What one event of a Tandem event stream carries (docs/PROTOCOL.md §6). */
export type StreamEvent =
  | { readonly kind: 'frame'; readonly id: number; readonly frame: Uint8Array }
  | { readonly kind: 'close'; readonly code: number; readonly reason: string }

/** The stream's opening: how long an EventSource waits before it reconnects (SPEC R22, R34). */
export function encodeStreamRetry(retryMs: number): string {
  return `retry: ${retryMs}\n\n`
}

/** A frame event; `base64` is the frame in standard base64, computed once per broadcast. */
export function encodeFrameEvent(id: number, base64: string): string {
  return `id: ${id}\ndata: ${base64}\n\n`
}

export function encodeCloseEvent(code: number, reason: string): string {
  return `event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`
}

/** A comment line: invisible to EventSource, it keeps proxies from timing the stream out. */
export const STREAM_HEARTBEAT = ': ping\n\n'

/**
 * Decodes one event as an SSE parser (EventSource, eventsource-parser) hands it over: its type
 * (`message` when absent), its last id and its data.
 */
export function decodeStreamEvent(event: {
  readonly event?: string | undefined
  readonly id?: string | undefined
  readonly data: string
}): StreamEvent {
  const type = event.event ?? 'message'
  if (type === 'close') {
    let body: unknown
    try {
      body = JSON.parse(event.data)
    } catch {
      throw new ProtocolError('close event data is not JSON')
    }
    const { code, reason } = (typeof body === 'object' && body !== null ? body : {}) as Record<
      string,
      unknown
    >
    if (typeof code !== 'number' || !Number.isSafeInteger(code))
      throw new ProtocolError('close event without a code')
    return { kind: 'close', code, reason: typeof reason === 'string' ? reason : '' }
  }
  if (type !== 'message') throw new ProtocolError(`unknown event type ${type}`)
  const id = counter(event.id ?? '', 'event id')
  if (!BASE64.test(event.data)) throw new ProtocolError('event data is not base64')
  return { kind: 'frame', id, frame: decodeBase64(event.data) }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
