import type { MachineInfo } from '../schema.ts'
import type { PgActivity } from './infra.ts'
import type { ClusterMode, ClusterProfile, TopologyId } from './config.ts'

/**
 * The cluster results file (bench/results/cluster-*.json, not committed): every repetition as
 * measured, from which § Cluster of docs/BENCHMARKS.md is rendered. Bump when a field changes meaning.
 */
export const CLUSTER_SCHEMA = 'tandem-bench-cluster/1'

/** CPU used during one window, in ms, by every process that took part (from /proc/<pid>/stat). */
export interface CpuBreakdown {
  readonly elapsedMs: number
  /** Each Tandem node. */
  readonly nodeMs: readonly number[]
  /** All load-generator processes together. */
  readonly generatorMs: number
  /** The busiest generator, % of one core (≥ 90: the generator, not the server, set the pace). */
  readonly maxGeneratorPct: number
  /** PostgreSQL backends serving the run's database; null without PostgreSQL. */
  readonly pgBackendMs: number | null
  /** PostgreSQL's own processes (WAL writer, checkpointer…), which also work for other databases. */
  readonly pgBackgroundMs: number | null
  readonly redisMs: number | null
  /** Every core of the machine, % of all (100 = both cores busy the whole window). */
  readonly machinePct: number
  /** Busy time of the machine that none of the above (nor the harness) accounts for: other users. */
  readonly foreignMs: number
}

/** Counters of one node over a window, from its /metrics. */
export interface NodeCounters {
  /** Sync updates received from this node's clients. */
  readonly updatesIn: number
  /** Sync update frames sent to this node's clients (one per recipient). */
  readonly framesOut: number
  /** Group commits, and the updates in them. */
  readonly batches: number
  readonly batchEntries: number
  readonly batchSeconds: number
  readonly catchUps: number
  /** Messages for other nodes not published (Redis unreachable). */
  readonly dropped: number
  readonly rejections: number
  readonly persistFailures: number
}

export interface CommandStat {
  readonly calls: number
  readonly usec: number
}

export interface WindowMeasure {
  readonly cpu: CpuBreakdown
  readonly nodes: readonly NodeCounters[]
  /** Redis commands run during the window (INFO commandstats difference); empty without Redis. */
  readonly redisCommands: Readonly<Record<string, CommandStat>>
  /** What the run's PostgreSQL backends were doing (sampled); null without PostgreSQL. */
  readonly pgActivity: PgActivity | null
  /** Each node's event-loop delay over the window (from the first sample after the start only). */
  readonly eventLoop: ReadonlyArray<{ readonly p99Ms: number; readonly maxMs: number }>
}

export interface Latencies {
  readonly samples: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
}

/** One rate of the fan-out: one writer on node 1, readers on node 1 and (cluster) on the others. */
export interface FanoutResult {
  readonly rate: number
  readonly achievedRate: number
  readonly sameNode: Latencies
  /** Readers on other nodes than the writer's; null on a single node. */
  readonly crossNode: Latencies | null
  readonly window: WindowMeasure
}

export interface StepResult {
  readonly rate: number
  readonly achievedRate: number
  readonly latency: Latencies
  /** The writers' "saved" acknowledgements (durable in the store), p99. */
  readonly ackP99Ms: number
  readonly isDrained: boolean
  readonly isKeptRate: boolean
  /** Drained, kept the rate, p99 under the bound, nothing dropped, no catch-up, no client lost. */
  readonly isSteady: boolean
  /** Why it is not steady (empty when it is). */
  readonly reasons: readonly string[]
  /** While the generators wrote: how busy each process was under this rate. */
  readonly window: WindowMeasure
  /** From the same start until every update was delivered and committed: what the step cost. */
  readonly complete: WindowMeasure
}

export interface RampResult {
  readonly joinMs: number
  /** Opening every client: handshakes, loads (on every node a room has clients on), presence. */
  readonly join: WindowMeasure
  /** Clients connected, nobody writing. */
  readonly idle: WindowMeasure
  readonly steps: readonly StepResult[]
  readonly maxSteadyRate: number
  /** The ramp never failed a step, or failed one because a generator could not keep up. */
  readonly isLowerBound: boolean
  readonly stopReason: string | null
}

export interface ClusterRepResult {
  readonly topology: TopologyId
  readonly repetition: number
  readonly ok: boolean
  readonly error?: string
  readonly fanout: readonly FanoutResult[]
  readonly ramp: RampResult | null
  readonly durationS: number
}

export interface ClusterRun {
  readonly schema: typeof CLUSTER_SCHEMA
  readonly mode: ClusterMode
  readonly command: string
  readonly startedAt: string
  readonly finishedAt: string
  readonly durationS: number
  readonly machine: MachineInfo
  readonly profile: ClusterProfile
  readonly topologies: readonly TopologyId[]
  /** Redis shared with other users (its CPU is not the cluster's alone). */
  readonly isRedisShared: boolean
  readonly reps: readonly ClusterRepResult[]
}
