/**
 * The y-websocket wire protocol (y-protocols sync + awareness framing) plus Tandem's two opt-in
 * extension messages. Pure: bytes in, values out. Every encoder has a decoder; decoders throw only
 * `ProtocolError`. See docs/PROTOCOL.md §1.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/** Top-level message types. 0–3 are y-websocket's; 100+ are Tandem extensions (opt-in, §1.3). */
export const MESSAGE_SYNC = 0
export const MESSAGE_AWARENESS = 1
export const MESSAGE_AUTH = 2
export const MESSAGE_QUERY_AWARENESS = 3
export const MESSAGE_SAVED = 100
export const MESSAGE_PERSISTENCE = 101
export const MESSAGE_PING = 102
export const MESSAGE_PONG = 103

/** y-protocols sync sub-types. */
const SYNC_STEP1 = 0
const SYNC_STEP2 = 1
const SYNC_UPDATE = 2

/** y-protocols auth sub-type: the only one defined. */
const AUTH_PERMISSION_DENIED = 0

export type PersistenceState = 'ok' | 'failing'

export type Message =
  | { readonly type: 'sync-step1'; readonly stateVector: Uint8Array }
  | { readonly type: 'sync-step2'; readonly update: Uint8Array }
  | { readonly type: 'sync-update'; readonly update: Uint8Array }
  | { readonly type: 'awareness'; readonly update: Uint8Array }
  | { readonly type: 'query-awareness' }
  | { readonly type: 'auth-denied'; readonly reason: string }
  /** Every step2/update message the receiver sent on this connection up to `seq` is durable. */
  | { readonly type: 'saved'; readonly seq: number }
  /** Whether the server is currently able to persist this document. */
  | { readonly type: 'persistence'; readonly state: PersistenceState }
  /**
   * Application-level heartbeat (opt-in with the acks, §1.3): a client asks, the server answers
   * `pong` with the same number. WebSocket pings are invisible to page code; these are not, so a
   * browser can tell a silent (half-open) connection from a quiet one.
   */
  | { readonly type: 'ping'; readonly nonce: number }
  | { readonly type: 'pong'; readonly nonce: number }

export type MessageType = Message['type']

/** The one error decoders throw: the input is not a well-formed message. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError'
}

export function encodeMessage(message: Message): Uint8Array {
  const encoder = encoding.createEncoder()
  switch (message.type) {
    case 'sync-step1':
      encoding.writeVarUint(encoder, MESSAGE_SYNC)
      encoding.writeVarUint(encoder, SYNC_STEP1)
      encoding.writeVarUint8Array(encoder, message.stateVector)
      break
    case 'sync-step2':
      encoding.writeVarUint(encoder, MESSAGE_SYNC)
      encoding.writeVarUint(encoder, SYNC_STEP2)
      encoding.writeVarUint8Array(encoder, message.update)
      break
    case 'sync-update':
      encoding.writeVarUint(encoder, MESSAGE_SYNC)
      encoding.writeVarUint(encoder, SYNC_UPDATE)
      encoding.writeVarUint8Array(encoder, message.update)
      break
    case 'awareness':
      encoding.writeVarUint(encoder, MESSAGE_AWARENESS)
      encoding.writeVarUint8Array(encoder, message.update)
      break
    case 'query-awareness':
      encoding.writeVarUint(encoder, MESSAGE_QUERY_AWARENESS)
      break
    case 'auth-denied':
      encoding.writeVarUint(encoder, MESSAGE_AUTH)
      encoding.writeVarUint(encoder, AUTH_PERMISSION_DENIED)
      encoding.writeVarString(encoder, message.reason)
      break
    case 'saved':
      encoding.writeVarUint(encoder, MESSAGE_SAVED)
      encoding.writeVarUint(encoder, message.seq)
      break
    case 'persistence':
      encoding.writeVarUint(encoder, MESSAGE_PERSISTENCE)
      encoding.writeVarUint(encoder, message.state === 'ok' ? 0 : 1)
      break
    case 'ping':
      encoding.writeVarUint(encoder, MESSAGE_PING)
      encoding.writeVarUint(encoder, message.nonce)
      break
    case 'pong':
      encoding.writeVarUint(encoder, MESSAGE_PONG)
      encoding.writeVarUint(encoder, message.nonce)
      break
  }
  return encoding.toUint8Array(encoder)
}

/**
 * Decodes one frame. Throws `ProtocolError` for truncated input, unknown types, trailing bytes
 * and varints beyond 2^53 (lib0 reads them as unsafe numbers).
 */
export function decodeMessage(frame: Uint8Array): Message {
  const decoder = decoding.createDecoder(frame)
  let message: Message
  try {
    message = readMessage(decoder)
  } catch (error) {
    if (error instanceof ProtocolError) throw error
    throw new ProtocolError(`malformed message: ${error instanceof Error ? error.message : String(error)}`)
  }
  if (decoding.hasContent(decoder)) {
    throw new ProtocolError(`malformed message: ${frame.length - decoder.pos} trailing bytes`)
  }
  return message
}

function readMessage(decoder: decoding.Decoder): Message {
  const type = readSafeVarUint(decoder)
  switch (type) {
    case MESSAGE_SYNC: {
      const subType = readSafeVarUint(decoder)
      const payload = readPayload(decoder)
      switch (subType) {
        case SYNC_STEP1:
          return { type: 'sync-step1', stateVector: payload }
        case SYNC_STEP2:
          return { type: 'sync-step2', update: payload }
        case SYNC_UPDATE:
          return { type: 'sync-update', update: payload }
        default:
          throw new ProtocolError(`unknown sync message type ${subType}`)
      }
    }
    case MESSAGE_AWARENESS:
      return { type: 'awareness', update: readPayload(decoder) }
    case MESSAGE_QUERY_AWARENESS:
      return { type: 'query-awareness' }
    case MESSAGE_AUTH: {
      const subType = readSafeVarUint(decoder)
      if (subType !== AUTH_PERMISSION_DENIED) throw new ProtocolError(`unknown auth message type ${subType}`)
      return { type: 'auth-denied', reason: decoding.readVarString(decoder) }
    }
    case MESSAGE_SAVED:
      return { type: 'saved', seq: readSafeVarUint(decoder) }
    case MESSAGE_PERSISTENCE: {
      const state = readSafeVarUint(decoder)
      if (state > 1) throw new ProtocolError(`unknown persistence state ${state}`)
      return { type: 'persistence', state: state === 0 ? 'ok' : 'failing' }
    }
    case MESSAGE_PING:
      return { type: 'ping', nonce: readSafeVarUint(decoder) }
    case MESSAGE_PONG:
      return { type: 'pong', nonce: readSafeVarUint(decoder) }
    default:
      throw new ProtocolError(`unknown message type ${type}`)
  }
}

/**
 * A varint in its one canonical form: within 2^53, and no redundant trailing zero groups
 * (`[0x83, 0x00]` for 3). Non-canonical input would decode to values that re-encode differently.
 */
function readSafeVarUint(decoder: decoding.Decoder): number {
  const start = decoder.pos
  const value = decoding.readVarUint(decoder)
  if (!Number.isSafeInteger(value)) throw new ProtocolError('varint out of range')
  if (decoder.pos - start > 1 && decoder.arr[decoder.pos - 1] === 0)
    throw new ProtocolError('non-canonical varint')
  return value
}

/** A length-prefixed byte array, with a canonical length. */
function readPayload(decoder: decoding.Decoder): Uint8Array {
  return decoding.readUint8Array(decoder, readSafeVarUint(decoder))
}

/**
 * HTTP transports carry several frames per body (docs/PROTOCOL.md §8): each frame as a lib0
 * varUint8Array, back to back.
 */
export function encodeFrameBatch(frames: readonly Uint8Array[]): Uint8Array {
  const encoder = encoding.createEncoder()
  for (const frame of frames) encoding.writeVarUint8Array(encoder, frame)
  return encoding.toUint8Array(encoder)
}

/** Inverse of encodeFrameBatch; throws ProtocolError on a truncated or malformed batch. */
export function decodeFrameBatch(body: Uint8Array): Uint8Array[] {
  const decoder = decoding.createDecoder(body)
  const frames: Uint8Array[] = []
  try {
    while (decoding.hasContent(decoder)) frames.push(readPayload(decoder))
  } catch (error) {
    if (error instanceof ProtocolError) throw error
    throw new ProtocolError(`malformed batch: ${error instanceof Error ? error.message : String(error)}`)
  }
  return frames
}
