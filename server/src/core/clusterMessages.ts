import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'

/**
 * What nodes tell each other on a document's channel (SPEC R65, R66; docs/PROTOCOL.md §10), as
 * pure symmetric functions. `source` names the sender: its node id and the life of the document on
 * it, so a sequence that starts again after a reload is a new source, not a gap.
 */
export type ClusterMessage =
  | {
      readonly type: 'update'
      readonly source: string
      /** 1, 2, 3… per source: a skipped number is a missed message. */
      readonly seq: number
      /** Committed updates, in commit order. */
      readonly updates: readonly Uint8Array[]
      /** Client ids bound to writer keys by these updates (R33). */
      readonly writers: ReadonlyArray<readonly [number, string]>
    }
  | { readonly type: 'awareness'; readonly source: string; readonly update: Uint8Array }
  /** A node started serving the document: the others publish their clients' presence. */
  | { readonly type: 'query'; readonly source: string }
  /** Everyone in the document is to be closed with this close code: links reset, deleted. */
  | { readonly type: 'close'; readonly source: string; readonly code: number }

const TYPES = ['update', 'awareness', 'query', 'close'] as const

export class ClusterMessageError extends Error {
  override readonly name = 'ClusterMessageError'
}

export function encodeClusterMessage(message: ClusterMessage): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, TYPES.indexOf(message.type))
  encoding.writeVarString(encoder, message.source)
  switch (message.type) {
    case 'update':
      encoding.writeVarUint(encoder, message.seq)
      encoding.writeVarUint(encoder, message.updates.length)
      for (const update of message.updates) encoding.writeVarUint8Array(encoder, update)
      encoding.writeVarUint(encoder, message.writers.length)
      for (const [client, writer] of message.writers) {
        encoding.writeVarUint(encoder, client)
        encoding.writeVarString(encoder, writer)
      }
      break
    case 'awareness':
      encoding.writeVarUint8Array(encoder, message.update)
      break
    case 'query':
      break
    case 'close':
      encoding.writeVarUint(encoder, message.code)
      break
  }
  return encoding.toUint8Array(encoder)
}

/** Throws ClusterMessageError on anything it cannot read. */
export function decodeClusterMessage(bytes: Uint8Array): ClusterMessage {
  try {
    const decoder = decoding.createDecoder(bytes)
    const type = TYPES[decoding.readVarUint(decoder)]
    const source = decoding.readVarString(decoder)
    if (type === undefined) throw new ClusterMessageError('unknown cluster message type')
    switch (type) {
      case 'update': {
        const seq = decoding.readVarUint(decoder)
        const updates: Uint8Array[] = []
        for (let count = decoding.readVarUint(decoder); count > 0; count--)
          updates.push(decoding.readVarUint8Array(decoder))
        const writers: Array<readonly [number, string]> = []
        for (let count = decoding.readVarUint(decoder); count > 0; count--)
          writers.push([decoding.readVarUint(decoder), decoding.readVarString(decoder)])
        return { type, source, seq, updates, writers }
      }
      case 'awareness':
        return { type, source, update: decoding.readVarUint8Array(decoder) }
      case 'query':
        return { type, source }
      case 'close':
        return { type, source, code: decoding.readVarUint(decoder) }
    }
  } catch (error) {
    if (error instanceof ClusterMessageError) throw error
    throw new ClusterMessageError(error instanceof Error ? error.message : 'malformed cluster message')
  }
}
