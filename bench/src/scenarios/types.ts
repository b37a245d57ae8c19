import type { Profile } from '../config.ts'
import type { WorkerPool } from '../load/pool.ts'
import type { PeerId, ScenarioId, ScenarioResult } from '../schema.ts'

export interface RunContext {
  readonly profile: Profile
  readonly pool: WorkerPool
  /** Peers this run compares (a subset with --peers). */
  readonly peers: readonly PeerId[]
  /** Extra Node flags for a peer's server process (e.g. --cpu-prof with --cpu-prof). */
  peerNodeArgs(peer: PeerId): string[]
  /** Environment given to every peer on top of its defaults (--env; recorded in the results). */
  readonly peerEnv: Readonly<Record<string, string>>
  /** Where the memory scenario writes heap snapshots of `peer` (--heap-snapshot), or null. */
  heapSnapshotDir(peer: PeerId): string | null
  log(message: string): void
}

/** How the report shows a metric. */
export interface Column {
  readonly metric: string
  readonly label: string
  readonly digits: number
}

/** One scenario: how to measure it, and what its table and chart show. */
export interface Scenario {
  readonly id: ScenarioId
  readonly title: string
  /** Markdown paragraph: what is measured and how. */
  readonly method: string
  readonly columns: readonly Column[]
  /** The chart: one bar per peer for each case, of this metric. */
  readonly chart: { readonly metric: string; readonly label: string; readonly isLowerBetter: boolean }
  run(context: RunContext): Promise<ScenarioResult>
}
