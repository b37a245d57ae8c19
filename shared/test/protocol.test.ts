import { describe, expect, it } from 'vitest'
import { ProtocolError, decodeMessage, encodeMessage, type Message } from '../src/protocol.ts'

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values)

describe('protocol codec', () => {
  const messages: Message[] = [
    { type: 'sync-step1', stateVector: bytes(1, 2, 3) },
    { type: 'sync-step2', update: bytes(0, 0) },
    { type: 'sync-update', update: bytes(9, 8, 7, 6) },
    { type: 'awareness', update: bytes(1, 0) },
    { type: 'query-awareness' },
    { type: 'auth-denied', reason: 'no' },
    { type: 'saved', seq: 2 ** 40 },
    { type: 'persistence', state: 'failing' },
    { type: 'persistence', state: 'ok' },
  ]

  it.each(messages)('[R1] round-trips $type', (message) => {
    expect(decodeMessage(encodeMessage(message))).toEqual(message)
  })

  it('[R1] uses the y-websocket byte layout', () => {
    // messageSync, messageYjsSyncStep1, varUint8Array(len 2)
    expect(encodeMessage({ type: 'sync-step1', stateVector: bytes(5, 6) })).toEqual(bytes(0, 0, 2, 5, 6))
    expect(encodeMessage({ type: 'sync-update', update: bytes(7) })).toEqual(bytes(0, 2, 1, 7))
    expect(encodeMessage({ type: 'awareness', update: bytes(7) })).toEqual(bytes(1, 1, 7))
    expect(encodeMessage({ type: 'query-awareness' })).toEqual(bytes(3))
  })

  it.each([
    ['empty', bytes()],
    ['unknown type', bytes(42)],
    ['unknown sync type', bytes(0, 7, 0)],
    ['truncated payload', bytes(0, 2, 5, 1)],
    ['trailing bytes', bytes(3, 0)],
    ['length prefix beyond the frame', bytes(1, 0xff, 0xff, 0xff, 0x7f)],
    ['varint beyond 2^53', bytes(100, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)],
    ['unknown persistence state', bytes(101, 9)],
  ])('[R11] rejects %s with ProtocolError', (_name, frame) => {
    expect(() => decodeMessage(frame)).toThrow(ProtocolError)
  })
})

describe('frame batches', () => {
  it('[R24] round-trips any number of frames, including none and empty ones', async () => {
    const { decodeFrameBatch, encodeFrameBatch } = await import('../src/protocol.ts')
    const frames = [bytes(1, 2, 3), bytes(), bytes(...new Array<number>(300).fill(7))]
    expect(decodeFrameBatch(encodeFrameBatch(frames))).toEqual(frames)
    expect(decodeFrameBatch(encodeFrameBatch([]))).toEqual([])
  })

  it('[R24] rejects a truncated batch with ProtocolError', async () => {
    const { decodeFrameBatch } = await import('../src/protocol.ts')
    expect(() => decodeFrameBatch(bytes(5, 1, 2))).toThrow(ProtocolError)
  })
})
