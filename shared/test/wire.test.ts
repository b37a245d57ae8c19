import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeBase64 } from '../src/base64.ts'
import { ProtocolError } from '../src/protocol.ts'
import {
  decodeBatchHeader,
  decodeConnectParams,
  decodePollRequest,
  decodeStreamEvent,
  encodeBatchHeader,
  encodeCloseEvent,
  encodeConnectParams,
  encodeFrameEvent,
  encodePollRequest,
  type ConnectParams,
  type QueryReader,
} from '../src/wire.ts'

/** Reads a query the way URLSearchParams does (shared/ has no DOM or Node types). */
function query(entries: Record<string, string> | Array<[string, string]> | string): QueryReader {
  const pairs =
    typeof entries === 'string'
      ? entries
          .split('&')
          .filter(Boolean)
          .map((part): [string, string] => {
            const [key = '', value = ''] = part.split('=')
            return [decodeURIComponent(key), decodeURIComponent(value)]
          })
      : Array.isArray(entries)
        ? entries
        : Object.entries(entries)
  const map = new Map<string, string>()
  for (const [key, value] of pairs) if (!map.has(key)) map.set(key, value)
  return { get: (name) => map.get(name) ?? null }
}

const NAME = fc.string({ maxLength: 64 })
const connectParams: fc.Arbitrary<ConnectParams> = fc.record({
  token: fc.option(fc.string({ minLength: 1 }), { nil: null }),
  wantsAcks: fc.boolean(),
  writerKey: fc.option(fc.string({ minLength: 1 }), { nil: null }),
  viewerName: NAME,
  stateVector: fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 }), { nil: null }),
  isProbe: fc.boolean(),
  isFallback: fc.boolean(),
})

/** Parses a stream chunk the way an SSE parser does, enough for Tandem's own events. */
function parseEvent(chunk: string): { event?: string; id?: string; data: string } {
  const fields = new Map<string, string>()
  for (const line of chunk.split('\n')) {
    if (!line) continue
    const colon = line.indexOf(':')
    const value = line.slice(colon + 1)
    fields.set(line.slice(0, colon), value.startsWith(' ') ? value.slice(1) : value)
  }
  return { event: fields.get('event'), id: fields.get('id'), data: fields.get('data') ?? '' }
}

/** A decoder may refuse input, but only with ProtocolError (SPEC R11). */
function refusesOnlyWithProtocolError(decode: () => unknown): void {
  try {
    decode()
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError)
  }
}

describe('the URL and HTTP half of the wire', () => {
  it('[R11] connection parameters round-trip through the query string', () => {
    fc.assert(
      fc.property(connectParams, (params) => {
        expect(decodeConnectParams(query(encodeConnectParams(params)))).toEqual(params)
      }),
    )
  })

  it('[R21] a viewer name is cut to 64 characters on both sides', () => {
    const long = 'n'.repeat(100)
    expect(decodeConnectParams(query({ name: long })).viewerName).toHaveLength(64)
    expect(query(encodeConnectParams({ viewerName: long })).get('name')).toHaveLength(64)
  })

  it('[R24] poll requests and the batch header round-trip', () => {
    fc.assert(
      fc.property(
        fc.option(fc.string({ minLength: 1 }), { nil: null }),
        fc.option(fc.nat(), { nil: null }),
        fc.nat(),
        fc.boolean(),
        (token, seq, ack, isShort) => {
          const request = query(encodePollRequest({ token, seq, ack, isShort }))
          expect(decodePollRequest(request)).toEqual({ token, seq, ack, isShort })
          expect(decodeBatchHeader(encodeBatchHeader(ack))).toBe(ack)
        },
      ),
    )
  })

  it('[R22] stream events round-trip: frames with their ids, and the close event', () => {
    fc.assert(
      fc.property(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 300 }), (id, frame) => {
        const event = decodeStreamEvent(parseEvent(encodeFrameEvent(id, encodeBase64(frame))))
        expect(event).toEqual({ kind: 'frame', id, frame })
      }),
    )
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 4999 }), fc.string(), (code, reason) => {
        expect(decodeStreamEvent(parseEvent(encodeCloseEvent(code, reason)))).toEqual({
          kind: 'close',
          code,
          reason,
        })
      }),
    )
  })

  it('[R11] decoders refuse arbitrary input only with ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.option(fc.string(), { nil: undefined }),
        (key, value, type) => {
          const hostile = query([
            [key, value],
            ['sv', value],
            ['seq', value],
            ['ack', value],
          ])
          refusesOnlyWithProtocolError(() => decodeConnectParams(hostile))
          refusesOnlyWithProtocolError(() => decodePollRequest(hostile))
          refusesOnlyWithProtocolError(() => decodeBatchHeader(value))
          refusesOnlyWithProtocolError(() => decodeStreamEvent({ event: type, id: key, data: value }))
        },
      ),
      { numRuns: 2_000 },
    )
    for (const bad of ['-1', '1.5', '01', '1e3', ' 1', '99999999999999999']) {
      expect(() => decodePollRequest(query({ seq: bad }))).toThrow(ProtocolError)
    }
  })
})
