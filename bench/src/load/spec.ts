import type { Digest, ReplicaMode } from './replica.ts'

/** How a client speaks to a server: y-websocket frames, with each server's handshake. */
export type Dialect = 'tandem' | 'y-websocket' | 'hocuspocus' | 'relay'

export type Transport = 'ws' | 'sse' | 'longpoll'

/** Everything a worker needs to open one client. */
export interface ClientSpec {
  /** Unique within a run. */
  readonly id: string
  /** Clients of one document share a room key. */
  readonly room: string
  readonly transport: Transport
  readonly dialect: Dialect
  /** ws:// URL for `ws`; the http:// base URL for `sse` and `longpoll`. */
  readonly url: string
  /** The document name (Hocuspocus addresses messages with it; Tandem's doc id). */
  readonly docName: string
  /** Tandem link token (sse and longpoll put it in each request). */
  readonly token: string
  readonly isWriter: boolean
  readonly replica: ReplicaMode
  /** Sends sync step 1 on open, asking for the document (every client of a real server does). */
  readonly requestsState: boolean
  /** Answers another party's step 1 (servers' always; through the bare relay only an anchor does). */
  readonly answersStep1: boolean
  /** For joins: the content that must be there before the client counts as joined. */
  readonly expect?: Digest
}

/** When a client joined, relative to the moment it started connecting (ms). */
export interface JoinTiming {
  readonly id: string
  readonly openMs: number
  /** The server's step 2 arrived: what the server claims as "synced". */
  readonly syncedMs: number
  /** The expected content was there (equal to syncedMs unless content came later, or no `expect`). */
  readonly contentMs: number
}

/** A writer's send times for a contiguous run of its clocks. */
export interface SentTimes {
  readonly room: string
  readonly clientId: number
  readonly fromClock: number
  readonly times: Float64Array
}
