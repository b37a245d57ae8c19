import type { ClientSpec, Transport } from '../load/spec.ts'
import type { Digest, ReplicaMode } from '../load/replica.ts'
import type { PeerProcess } from './PeerProcess.ts'

/** A document on a running peer and how to reach it. */
export interface Room {
  readonly key: string
  readonly docName: string
  readonly editToken: string
  readonly viewToken: string
}

/** Makes a document: Tandem's must be created over REST (PROTOCOL.md §3); the others appear on first use. */
export async function createRoom(peer: PeerProcess, key: string): Promise<Room> {
  if (peer.spec.dialect !== 'tandem') return { key, docName: `bench-${key}`, editToken: '', viewToken: '' }
  const response = await fetch(`${peer.httpUrl}/api/docs`, { method: 'POST' })
  if (response.status !== 201) throw new Error(`POST /api/docs: HTTP ${response.status}`)
  const doc = (await response.json()) as { id: string; editToken: string; viewToken: string }
  return { key, docName: doc.id, editToken: doc.editToken, viewToken: doc.viewToken }
}

export async function createRooms(peer: PeerProcess, count: number, prefix: string): Promise<Room[]> {
  const rooms: Room[] = []
  for (let i = 0; i < count; i++) rooms.push(await createRoom(peer, `${prefix}${i}`))
  return rooms
}

export interface ClientOptions {
  readonly id: string
  readonly isWriter?: boolean
  readonly transport?: Transport
  /** Tandem: connect with the view token (read-only viewer). */
  readonly isViewer?: boolean
  readonly replica?: ReplicaMode
  /** Through the relay, whether this client answers others' step 1 (it holds the document). */
  readonly isAnchor?: boolean
  /** Through the relay, whether this client asks the others for the document on open. */
  readonly asksPeers?: boolean
  readonly expect?: Digest
}

/** The spec of one client of `room` on `peer`, with the peer's URL scheme and handshake. */
export function clientSpec(peer: PeerProcess, room: Room, options: ClientOptions): ClientSpec {
  const dialect = peer.spec.dialect
  const transport = options.transport ?? 'ws'
  const token = options.isViewer ? room.viewToken : room.editToken
  let url: string
  if (transport !== 'ws') url = peer.httpUrl
  else if (dialect === 'tandem') url = `${peer.wsUrl}/ws/${room.docName}?k=${encodeURIComponent(token)}&ack=1`
  else if (dialect === 'hocuspocus') url = `${peer.wsUrl}/`
  else url = `${peer.wsUrl}/${room.docName}`
  const isRelay = dialect === 'relay'
  return {
    id: options.id,
    room: room.key,
    transport,
    dialect,
    url,
    docName: room.docName,
    token,
    isWriter: options.isWriter ?? false,
    replica: options.replica ?? 'light',
    // Through the relay, a step 1 reaches every client and each would answer: only joiners ask,
    // only the anchor answers. Against a server every client does both, as y-websocket's does.
    requestsState: isRelay ? (options.asksPeers ?? false) : true,
    answersStep1: isRelay ? (options.isAnchor ?? false) : true,
    ...(options.expect ? { expect: options.expect } : {}),
  }
}
