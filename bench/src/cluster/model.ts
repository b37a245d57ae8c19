import { median } from '../util/stats.ts'
import type { TopologyId } from './config.ts'
import { total } from './sampler.ts'
import type { ClusterRepResult, ClusterRun, StepResult, WindowMeasure } from './schema.ts'

/** Median and range over repetitions. */
export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly n: number
}

export function spreadOf(values: readonly (number | null | undefined)[]): Spread {
  const finite = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
  if (finite.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 }
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite), n: finite.length }
}

/**
 * CPU per update of each part, in ms — which is also CPU seconds per 1,000 updates — over one
 * window, less what the same processes use with everyone connected and nobody writing (the idle
 * window: pings, presence renewals). `updates` is what the nodes received from clients.
 */
export interface UpdateCosts {
  readonly updates: number
  readonly perNode: readonly number[]
  readonly nodes: number
  readonly pgBackends: number | null
  readonly pgBackground: number | null
  readonly redis: number | null
  readonly generators: number
  /** Update frames sent to clients per update (4 in rooms of 5). */
  readonly framesPerUpdate: number
  /** Redis PUBLISH per update: below 1 when a commit carried several updates of a document. */
  readonly publishesPerUpdate: number | null
  readonly entriesPerCommit: number
  readonly msPerCommit: number
}

export function costsOf(window: WindowMeasure, idle: WindowMeasure | null): UpdateCosts {
  const updates = Math.max(1, total(window, 'updatesIn'))
  const { cpu } = window
  const baseline = (busy: number | null, idleBusy: number | null | undefined): number | null => {
    if (busy === null) return null
    const idleRate = idle && typeof idleBusy === 'number' ? idleBusy / idle.cpu.elapsedMs : 0
    return Math.max(0, busy - idleRate * cpu.elapsedMs) / updates
  }
  const perNode = cpu.nodeMs.map((ms, i) => baseline(ms, idle?.cpu.nodeMs[i]) ?? NaN)
  const batches = total(window, 'batches')
  const publish = window.redisCommands['publish']?.calls
  return {
    updates,
    perNode,
    nodes: perNode.reduce((sum, value) => sum + value, 0),
    pgBackends: baseline(cpu.pgBackendMs, idle?.cpu.pgBackendMs),
    pgBackground: baseline(cpu.pgBackgroundMs, idle?.cpu.pgBackgroundMs),
    redis: baseline(cpu.redisMs, idle?.cpu.redisMs),
    generators: baseline(cpu.generatorMs, idle?.cpu.generatorMs) ?? NaN,
    framesPerUpdate: total(window, 'framesOut') / updates,
    publishesPerUpdate:
      window.redisCommands['publish'] || cpu.redisMs !== null ? (publish ?? 0) / updates : null,
    entriesPerCommit: batches > 0 ? total(window, 'batchEntries') / batches : NaN,
    msPerCommit: batches > 0 ? (1000 * total(window, 'batchSeconds')) / batches : NaN,
  }
}

export function okReps(run: ClusterRun, topology: TopologyId): ClusterRepResult[] {
  return run.reps.filter((rep) => rep.ok && rep.topology === topology)
}

/** The step at the CPU comparison rate of each successful repetition. */
export function cpuSteps(
  run: ClusterRun,
  topology: TopologyId,
): Array<{ rep: ClusterRepResult; step: StepResult }> {
  return okReps(run, topology).flatMap((rep) => {
    const step = rep.ramp?.steps.findLast((s) => s.rate === run.profile.ramp.cpuRate)
    return step ? [{ rep, step }] : []
  })
}

export function costsAtCpuRate(run: ClusterRun, topology: TopologyId): UpdateCosts[] {
  return cpuSteps(run, topology).map(({ rep, step }) => costsOf(step.complete, rep.ramp?.idle ?? null))
}

/**
 * Redis CPU per PUBLISH over every window of every repetition that published (fan-out rates and
 * ramp steps), summed before dividing: /proc counts in 10 ms ticks, a few per window.
 */
function redisMsPerPublish(run: ClusterRun, topology: TopologyId): number {
  let ms = 0
  let calls = 0
  for (const rep of okReps(run, topology)) {
    const idle = rep.ramp?.idle
    const idleRate = idle?.cpu.redisMs ? idle.cpu.redisMs / idle.cpu.elapsedMs : 0
    const windows = [...rep.fanout.map((f) => f.window), ...(rep.ramp?.steps ?? []).map((s) => s.complete)]
    for (const window of windows) {
      ms += Math.max(0, (window.cpu.redisMs ?? 0) - idleRate * window.cpu.elapsedMs)
      calls += window.redisCommands['publish']?.calls ?? 0
    }
  }
  return calls > 0 ? ms / calls : NaN
}

/** Redis CPU per presence-directory renewal (HSET + PEXPIRE), from the idle windows. */
function redisMsPerRenewal(run: ClusterRun, topology: TopologyId): number {
  let ms = 0
  let calls = 0
  for (const rep of okReps(run, topology)) {
    const idle = rep.ramp?.idle
    ms += idle?.cpu.redisMs ?? 0
    calls += idle?.redisCommands['hset']?.calls ?? 0
  }
  return calls > 0 ? ms / calls : NaN
}

/** The measured constants of the model, ms of CPU per update unless said otherwise. */
export interface ModelConstants {
  /** All nodes, per update, at the CPU rate: default LevelDB node, 1 and 3 cluster nodes. */
  readonly w0: number
  readonly w1: number
  readonly w3: number
  /** All nodes with each room on one node: k = 1, so the model says w1 — a check of the model. */
  readonly w3rooms: number
  /**
   * What the model charges the accepting node: w3rooms when the control ran (measured on three nodes
   * sharing two cores, like r), else w1.
   */
  readonly wa: number
  /**
   * Each further node with the document loaded, per update it decodes and applies: (w3 − w3rooms) / 2,
   * the same three processes with and without rooms across nodes; (w3 − w1) / 2 without the control.
   */
  readonly r: number
  readonly pg1: number
  readonly pg3: number
  /** Redis per PUBLISH with 1 subscriber (pg-1) and 3 (pg-3), and the split into base + per subscriber. */
  readonly redis1: number
  readonly redis3: number
  readonly redisBase: number
  readonly redisPerSubscriber: number
  readonly redisPerRenewal: number
}

export function modelConstants(run: ClusterRun): ModelConstants {
  const nodes = (id: TopologyId): number => spreadOf(costsAtCpuRate(run, id).map((c) => c.nodes)).median
  const pg = (id: TopologyId): number => spreadOf(costsAtCpuRate(run, id).map((c) => c.pgBackends)).median
  const w1 = nodes('pg-1')
  const w3 = nodes('pg-3')
  const w3rooms = nodes('pg-3-rooms')
  const wa = Number.isFinite(w3rooms) ? w3rooms : w1
  const redis1 = redisMsPerPublish(run, 'pg-1')
  const redis3 = redisMsPerPublish(run, 'pg-3')
  const redisPerSubscriber = Math.max(0, (redis3 - redis1) / 2)
  return {
    w0: nodes('leveldb-1'),
    w1,
    w3,
    w3rooms,
    wa,
    r: Math.max(0, (w3 - wa) / 2),
    pg1: pg('pg-1'),
    pg3: pg('pg-3'),
    redis1,
    redis3,
    redisBase: Math.max(0, redis1 - redisPerSubscriber),
    redisPerSubscriber,
    redisPerRenewal: redisMsPerRenewal(run, 'pg-3'),
  }
}

/** Updates/s one Redis core carries (one PUBLISH per update, k subscribers each), and PostgreSQL per core. */
export function sharedCeilings(constants: ModelConstants, k: number): { redis: number; pgPerCore: number } {
  return {
    redis: 1000 / (constants.redisBase + k * constants.redisPerSubscriber),
    pgPerCore: 1000 / constants.pg3,
  }
}

export interface Prediction {
  readonly nodes: number
  /** Nodes each room is loaded on: its clients spread round-robin. */
  readonly nodesPerRoom: number
  /** CPU of each node per 1,000 updates made anywhere in the cluster (s). */
  readonly perNodeSPer1k: number
  /** Of it, applying other nodes' updates (s): r · (k − 1) / N. */
  readonly crossSPer1k: number
  /** Share of a node's CPU spent applying other nodes' updates. */
  readonly crossShare: number
  /** Redis and PostgreSQL CPU per 1,000 cluster updates (s), whatever N: one PUBLISH, one commit share. */
  readonly redisSPer1k: number
  readonly pgSPer1k: number
}

/**
 * The design's cost for N nodes, rooms of `clientsPerRoom` spread round-robin (so each room is on
 * k = min(clientsPerRoom, N) nodes): an update costs wa on the node that accepts it (apply, broadcast,
 * commit, one PUBLISH, its own echo) and r on each of the k − 1 other nodes; a node receives only
 * the channels of documents it has loaded, so at a cluster rate U a node pays U · (wa + (k−1)·r) / N.
 * Redis pays base + k · per-subscriber per PUBLISH; PostgreSQL what pg-3 paid per update.
 */
export function predict(constants: ModelConstants, nodes: number, clientsPerRoom: number): Prediction {
  const k = Math.min(clientsPerRoom, nodes)
  const perUpdateMs = constants.wa + (k - 1) * constants.r
  return {
    nodes,
    nodesPerRoom: k,
    perNodeSPer1k: perUpdateMs / nodes,
    crossSPer1k: ((k - 1) * constants.r) / nodes,
    crossShare: ((k - 1) * constants.r) / perUpdateMs,
    redisSPer1k: constants.redisBase + k * constants.redisPerSubscriber,
    pgSPer1k: constants.pg3,
  }
}

/** Median CPU ms per update of all nodes and of PostgreSQL's backends at each rate of the ramp. */
export function costsByRate(
  run: ClusterRun,
  topology: TopologyId,
): Map<number, { nodes: number; pg: number | null }> {
  const out = new Map<number, { nodes: number; pg: number | null }>()
  for (const rate of run.profile.ramp.steps) {
    const costs = okReps(run, topology).flatMap((rep) => {
      const step = rep.ramp?.steps.findLast((s) => s.rate === rate)
      return step ? [costsOf(step.complete, rep.ramp?.idle ?? null)] : []
    })
    if (costs.length === 0) continue
    const pg = spreadOf(costs.map((c) => c.pgBackends)).median
    out.set(rate, { nodes: spreadOf(costs.map((c) => c.nodes)).median, pg: Number.isFinite(pg) ? pg : null })
  }
  return out
}
