import type { ClientSpec, JoinTiming, SentTimes } from './spec.ts'
import type { Digest } from './replica.ts'

/** What the coordinator asks a worker to do; each has exactly one answer type in `Answers`. */
export type Command =
  | {
      readonly op: 'open'
      readonly clients: readonly ClientSpec[]
      readonly concurrency: number
      readonly timeoutMs: number
    }
  | {
      readonly op: 'write'
      readonly writers: readonly string[]
      readonly rate: number
      readonly durationMs: number
    }
  | { readonly op: 'writerClocks' }
  | {
      readonly op: 'await'
      readonly expected: ReadonlyArray<{ room: string; clientId: number; clock: number }>
      readonly timeoutMs: number
    }
  | { readonly op: 'latencies'; readonly sent: readonly SentTimes[] }
  | { readonly op: 'digests' }
  | { readonly op: 'acks' }
  | { readonly op: 'failures' }
  | { readonly op: 'close'; readonly ids?: readonly string[] }
  | {
      readonly op: 'send'
      readonly clientId: string
      /** lib0 varUint8Array-framed updates, back to back (a file written by the coordinator). */
      readonly file: string
      readonly count: number
      readonly applyOwn: boolean
    }
  | {
      readonly op: 'replay'
      readonly writerId: string
      readonly readerId: string
      readonly file: string
      /** The Yjs client id the trace was recorded as. */
      readonly traceClientId: number
      /** The trace writer's insert clock after each op, to tell how far the reader has got. */
      readonly clockAfter: readonly number[]
      /** Where the replay may stop, with the text the document has there; ascending, last = whole trace. */
      readonly checkpoints: ReadonlyArray<{ readonly ops: number } & Digest>
      readonly windowOps: number
      readonly maxMs: number
      readonly timeoutMs: number
    }

export interface WriteAnswer {
  readonly sent: number
  readonly plannedMs: number
  /** From the first change to the last; longer than planned when the generator fell behind. */
  readonly actualMs: number
  /** 99th percentile of how late a change was made against its schedule (ms). */
  readonly lateP99Ms: number
  readonly sentTimes: readonly SentTimes[]
}

export interface ReplayAnswer {
  readonly ops: number
  /** From the first op sent to the reader holding exactly the trace's text. */
  readonly elapsedMs: number
}

export interface Answers {
  open: { readonly joins: readonly JoinTiming[]; readonly failures: readonly string[] }
  write: WriteAnswer
  writerClocks: ReadonlyArray<{ room: string; clientId: number; clock: number }>
  await: { readonly ok: boolean; readonly lagging: readonly string[] }
  latencies: { readonly latencies: Float64Array; readonly missing: number }
  digests: ReadonlyArray<{ id: string; room: string } & Digest>
  acks: Float64Array
  failures: readonly string[]
  close: null
  send: { readonly elapsedMs: number }
  replay: ReplayAnswer
}

export interface Request {
  readonly id: number
  readonly command: Command
}

export type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string }
