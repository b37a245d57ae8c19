/**
 * The results file (bench/results/*.json): what a run measured, independent of how it is shown.
 * The report generator turns it into docs/BENCHMARKS.md; bump SCHEMA when a field changes meaning.
 */
export const SCHEMA = 'tandem-bench/1'

export type Mode = 'quick' | 'full'

export type PeerId = 'tandem' | 'yws' | 'yws-leveldb' | 'hocuspocus' | 'hocuspocus-sqlite' | 'relay'

export type ScenarioId = 'fanout' | 'throughput' | 'memory' | 'join' | 'trace' | 'tandem'

export interface MachineInfo {
  readonly cpuModel: string
  readonly cores: number
  readonly memoryGiB: number
  readonly node: string
  readonly kernel: string
  /** 1-minute load average when the run started and ended: > cores means others were busy too. */
  readonly loadAtStart: number
  readonly loadAtEnd: number
}

export interface PeerInfo {
  readonly id: PeerId
  readonly label: string
  readonly version: string
  /** What "saved" means for this server: when an update reaches storage, if ever. */
  readonly durability: string
}

/** Why a measurement may say more about the machine than about the server. */
export interface Limits {
  /** A load-generator process was saturated or could not keep the requested rate. */
  readonly generator: boolean
  /** The whole machine (every core) was busy. */
  readonly machine: boolean
  readonly notes: readonly string[]
}

export type Metrics = Readonly<Record<string, number>>

/** One repetition: a fresh server process, clients, load, verification. */
export interface RepResult {
  /** False when the run failed: lost or corrupted an update, a replica differed, a client was refused. */
  readonly ok: boolean
  readonly error?: string
  readonly metrics: Metrics
  readonly limits: Limits
}

/** One configuration of a scenario for one server, over every repetition. */
export interface CaseResult {
  readonly peer: PeerId
  /** Stable key of the configuration within its scenario, e.g. `n=500,rate=200`. */
  readonly key: string
  readonly config: Readonly<Record<string, number | string>>
  readonly reps: readonly RepResult[]
  /** Per metric, the median over the successful repetitions; null when every repetition failed. */
  readonly median: Metrics | null
}

export interface ScenarioResult {
  readonly id: ScenarioId
  readonly title: string
  readonly params: Readonly<Record<string, unknown>>
  readonly cases: readonly CaseResult[]
  readonly notes: readonly string[]
  readonly durationS: number
}

export interface RunResults {
  readonly schema: typeof SCHEMA
  readonly mode: Mode
  readonly startedAt: string
  readonly finishedAt: string
  readonly durationS: number
  readonly repetitions: number
  /** Settings given to every server on top of its defaults (--env): a non-default configuration. */
  readonly peerEnv: Readonly<Record<string, string>>
  readonly machine: MachineInfo
  readonly peers: readonly PeerInfo[]
  readonly scenarios: readonly ScenarioResult[]
}
