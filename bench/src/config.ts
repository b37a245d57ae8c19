import type { Mode } from './schema.ts'

/**
 * Every knob of a run, for both modes, in one place. `full` is what docs/BENCHMARKS.md reports
 * (≤ 20 min on a quiet 2-core machine); `quick` checks the harness end to end (≤ 3 min) with one
 * repetition and smaller loads, and its numbers are marked as such.
 */
export interface Profile {
  readonly mode: Mode
  readonly repetitions: number
  /** Load-generator processes (one tops out near 4,000 updates/s or ~100k frames/s). */
  readonly workers: number
  readonly fanout: {
    readonly readers: readonly number[]
    readonly rates: readonly number[]
    readonly phaseMs: number
    readonly drainMs: number
  }
  readonly throughput: {
    readonly rooms: number
    readonly clientsPerRoom: number
    /** Total updates/s over all rooms, tried in order until p99 ≥ 100 ms (2,000 always runs). */
    readonly steps: readonly number[]
    readonly stepMs: number
    readonly drainMs: number
    readonly p99LimitMs: number
    /** The rate at which server CPU is compared. */
    readonly cpuRate: number
  }
  readonly memory: {
    readonly connections: readonly number[]
    readonly clientsPerRoom: number
  }
  readonly join: {
    /** Small edits that build the large document (~120k characters). */
    readonly edits: number
    readonly warmJoins: number
  }
  readonly trace: {
    /** Ops of the trace to replay (it has 259,778); the replay may stop early at a checkpoint after maxMs. */
    readonly ops: number
    readonly checkpointEvery: number
    readonly windowOps: number
    readonly maxMs: number
  }
  readonly tandem: {
    readonly longPollReaders: number
    readonly sseViewers: number
    readonly rate: number
    readonly phaseMs: number
  }
}

const FULL: Profile = {
  mode: 'full',
  repetitions: 3,
  workers: 3,
  fanout: { readers: [10, 100, 500], rates: [20, 200], phaseMs: 1_500, drainMs: 10_000 },
  throughput: {
    rooms: 100,
    clientsPerRoom: 5,
    steps: [1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 8_000],
    stepMs: 1_500,
    drainMs: 2_500,
    p99LimitMs: 100,
    cpuRate: 2_000,
  },
  memory: { connections: [1_000, 5_000], clientsPerRoom: 10 },
  join: { edits: 15_000, warmJoins: 3 },
  // The whole trace (259,778 ops) takes minutes per run on the slower servers: six servers × three
  // repetitions of it would not fit the 20 minutes. Every server replays the same first 60,000.
  trace: { ops: 60_000, checkpointEvery: 10_000, windowOps: 256, maxMs: 20_000 },
  tandem: { longPollReaders: 100, sseViewers: 1_000, rate: 20, phaseMs: 2_000 },
}

const QUICK: Profile = {
  mode: 'quick',
  repetitions: 1,
  workers: 2,
  fanout: { readers: [50], rates: [20, 200], phaseMs: 1_000, drainMs: 5_000 },
  throughput: {
    rooms: 20,
    clientsPerRoom: 5,
    steps: [1_000, 2_000],
    stepMs: 1_000,
    drainMs: 2_000,
    p99LimitMs: 100,
    cpuRate: 2_000,
  },
  memory: { connections: [200, 500], clientsPerRoom: 10 },
  join: { edits: 2_000, warmJoins: 2 },
  trace: { ops: 10_000, checkpointEvery: 5_000, windowOps: 256, maxMs: 5_000 },
  tandem: { longPollReaders: 20, sseViewers: 100, rate: 20, phaseMs: 1_000 },
}

export function profileFor(mode: Mode): Profile {
  return mode === 'full' ? FULL : QUICK
}
