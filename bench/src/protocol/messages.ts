import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/**
 * The y-websocket wire messages the load generators speak (Tandem's docs/PROTOCOL.md §1; the same
 * bytes y-websocket-server and, behind its document-name prefix, Hocuspocus use). The bench has its
 * own codec rather than importing @tandem/shared so that it measures peers with one client and
 * stays out of the product's dependency tree.
 */
const MESSAGE_SYNC = 0
const MESSAGE_AWARENESS = 1
const MESSAGE_AUTH = 2
/** Tandem's opt-in `saved(seq)` acknowledgement. */
const MESSAGE_SAVED = 100
/** Hocuspocus: every sync message it applied is acknowledged with SyncStatus(applied). */
const MESSAGE_HOCUSPOCUS_SYNC_STATUS = 8
const MESSAGE_HOCUSPOCUS_CLOSE = 7
const SYNC_STEP1 = 0
const SYNC_STEP2 = 1
const SYNC_UPDATE = 2
/** Hocuspocus auth sub-types (@hocuspocus/common auth.ts). */
const AUTH_TOKEN = 0
const AUTH_PERMISSION_DENIED = 1
const AUTH_AUTHENTICATED = 2

export type Incoming =
  | { readonly kind: 'sync-step1'; readonly stateVector: Uint8Array }
  | { readonly kind: 'sync-step2'; readonly update: Uint8Array }
  | { readonly kind: 'sync-update'; readonly update: Uint8Array }
  | { readonly kind: 'saved'; readonly seq: number }
  | { readonly kind: 'authenticated' }
  | { readonly kind: 'denied'; readonly reason: string }
  | { readonly kind: 'closed-by-server'; readonly reason: string }
  | { readonly kind: 'ignored'; readonly type: number }

function syncMessage(subType: number, payload: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MESSAGE_SYNC)
  encoding.writeVarUint(encoder, subType)
  encoding.writeVarUint8Array(encoder, payload)
  return encoding.toUint8Array(encoder)
}

export const encodeStep1 = (stateVector: Uint8Array): Uint8Array => syncMessage(SYNC_STEP1, stateVector)
export const encodeStep2 = (update: Uint8Array): Uint8Array => syncMessage(SYNC_STEP2, update)
export const encodeUpdate = (update: Uint8Array): Uint8Array => syncMessage(SYNC_UPDATE, update)

/** Hocuspocus's first message for a document: an auth token (empty: the bench configures no auth). */
export function encodeHocuspocusAuth(token: string): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MESSAGE_AUTH)
  encoding.writeVarUint(encoder, AUTH_TOKEN)
  encoding.writeVarString(encoder, token)
  return encoding.toUint8Array(encoder)
}

/** Hocuspocus addresses every message, both ways, with a leading varString document name. */
export function prefixDocName(docName: string, message: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarString(encoder, docName)
  encoding.writeUint8Array(encoder, message)
  return encoding.toUint8Array(encoder)
}

export function stripDocName(frame: Uint8Array): Uint8Array {
  const decoder = decoding.createDecoder(frame)
  decoding.readVarString(decoder)
  return frame.subarray(decoder.pos)
}

/**
 * Decodes one message. `isHocuspocus` selects the meaning of the types both protocols reuse
 * (2 is Tandem's auth-denied but Hocuspocus's auth exchange). Throws on truncated input.
 */
export function decodeMessage(message: Uint8Array, isHocuspocus: boolean): Incoming {
  const decoder = decoding.createDecoder(message)
  const type = decoding.readVarUint(decoder)
  switch (type) {
    case MESSAGE_SYNC: {
      const subType = decoding.readVarUint(decoder)
      const payload = decoding.readVarUint8Array(decoder)
      if (subType === SYNC_STEP1) return { kind: 'sync-step1', stateVector: payload }
      if (subType === SYNC_STEP2) return { kind: 'sync-step2', update: payload }
      if (subType === SYNC_UPDATE) return { kind: 'sync-update', update: payload }
      throw new Error(`unknown sync sub-type ${subType}`)
    }
    case MESSAGE_AUTH: {
      const subType = decoding.readVarUint(decoder)
      if (!isHocuspocus) return { kind: 'denied', reason: decoding.readVarString(decoder) }
      if (subType === AUTH_AUTHENTICATED) return { kind: 'authenticated' }
      if (subType === AUTH_PERMISSION_DENIED)
        return { kind: 'denied', reason: decoding.readVarString(decoder) }
      return { kind: 'ignored', type }
    }
    case MESSAGE_SAVED:
      return isHocuspocus ? { kind: 'ignored', type } : { kind: 'saved', seq: decoding.readVarUint(decoder) }
    case MESSAGE_HOCUSPOCUS_CLOSE:
      return isHocuspocus
        ? { kind: 'closed-by-server', reason: decoding.readVarString(decoder) }
        : { kind: 'ignored', type }
    case MESSAGE_AWARENESS:
    case MESSAGE_HOCUSPOCUS_SYNC_STATUS:
    default:
      return { kind: 'ignored', type }
  }
}

/** Length-prefixed frames back to back: the body of Tandem's long-polling requests (PROTOCOL.md §8). */
export function decodeFrameBatch(body: Uint8Array): Uint8Array[] {
  const decoder = decoding.createDecoder(body)
  const frames: Uint8Array[] = []
  while (decoding.hasContent(decoder)) frames.push(decoding.readVarUint8Array(decoder))
  return frames
}

export function encodeFrameBatch(frames: readonly Uint8Array[]): Uint8Array {
  const encoder = encoding.createEncoder()
  for (const frame of frames) encoding.writeVarUint8Array(encoder, frame)
  return encoding.toUint8Array(encoder)
}
