import type { WorkerPool } from '../load/pool.ts'
import { sleep } from '../util/clock.ts'
import { CORES, processCpuMs, systemCpu } from '../util/proc.ts'
import { commandStats, pgProcesses, scrapeMetrics, startPgActivityProbe, type PgProcesses } from './infra.ts'
import type { CommandStat, NodeCounters, WindowMeasure } from './schema.ts'
import type { RunningTopology } from './topology.ts'

export interface Window {
  /** What was used from the start until now; the window goes on. */
  sample(): Promise<WindowMeasure>
  /** Resolves once every node has committed every update its clients sent since the start. */
  whenCommitted(timeoutMs: number): Promise<boolean>
  /** Ends the window (its PostgreSQL probe). */
  stop(): Promise<void>
}

const COUNTERS: Readonly<Record<keyof NodeCounters, string>> = {
  updatesIn: 'tandem_updates_received_total',
  framesOut: 'tandem_updates_broadcast_total',
  batches: 'tandem_persist_batch_entries_count',
  batchEntries: 'tandem_persist_batch_entries_sum',
  batchSeconds: 'tandem_persist_batch_seconds_sum',
  catchUps: 'tandem_cluster_catchups_total',
  dropped: 'tandem_cluster_messages_dropped_total',
  rejections: 'tandem_rejections_total',
  persistFailures: 'tandem_persist_failures_total',
}

const cpuOf = (pids: readonly number[]): Map<number, number> =>
  new Map(pids.map((pid) => [pid, processCpuMs(pid)]))

/** CPU a set of processes used since `before`; a process that started meanwhile counts from zero. */
function usedSince(before: ReadonlyMap<number, number>, pids: readonly number[]): number {
  let sum = 0
  for (const pid of new Set([...before.keys(), ...pids])) {
    const now = processCpuMs(pid)
    if (Number.isFinite(now)) sum += now - (before.get(pid) ?? 0)
  }
  return sum
}

async function counters(topology: RunningTopology): Promise<Array<Map<string, number>>> {
  return Promise.all(topology.nodes.map((node) => scrapeMetrics(node.metricsUrl)))
}

async function redisCommands(topology: RunningTopology): Promise<Map<string, CommandStat>> {
  return topology.redis ? commandStats(await topology.redis.info('commandstats')) : new Map()
}

/**
 * Starts measuring a window: CPU of every node, generator, PostgreSQL backend of the run's database,
 * PostgreSQL's own processes, Redis and the whole machine, plus each node's counters and Redis's
 * command statistics. Counters are read before the CPU baseline and after the CPU end, so the
 * scrapes themselves fall outside the CPU window.
 */
export async function startWindow(topology: RunningTopology, pool: WorkerPool): Promise<Window> {
  const database = topology.database?.name ?? null
  const counters0 = await counters(topology)
  const redis0 = await redisCommands(topology)
  const pg0: PgProcesses | null = database ? await pgProcesses(database) : null
  const redisPid = topology.redis?.pid ?? null
  const nodes0 = topology.nodes.map((node) => node.server.cpuMs())
  const generators0 = pool.pids.map(processCpuMs)
  const self0 = processCpuMs(process.pid)
  const pgBackends0 = cpuOf(pg0?.backends ?? [])
  const pgBackground0 = cpuOf(pg0?.background ?? [])
  const redisCpu0 = redisPid ? processCpuMs(redisPid) : NaN
  const system0 = systemCpu()
  const probe = database ? startPgActivityProbe(database) : null
  const startedAt = performance.now()
  return {
    stop: async () => {
      await probe?.stop()
    },
    async whenCommitted(timeoutMs) {
      const deadline = Date.now() + timeoutMs
      const grew = (
        now: Map<string, number>,
        before: Map<string, number> | undefined,
        name: string,
      ): number => (now.get(name) ?? 0) - (before?.get(name) ?? 0)
      for (;;) {
        const now = await counters(topology)
        const isDone = now.every(
          (node, i) =>
            grew(node, counters0[i], COUNTERS.batchEntries) >= grew(node, counters0[i], COUNTERS.updatesIn),
        )
        if (isDone) return true
        if (Date.now() > deadline) return false
        await sleep(50)
      }
    },
    async sample() {
      const elapsedMs = Math.max(1, performance.now() - startedAt)
      const nodeMs = topology.nodes.map((node, index) => node.server.cpuMs() - (nodes0[index] ?? 0))
      const generators = pool.pids.map((pid, index) => processCpuMs(pid) - (generators0[index] ?? 0))
      const selfMs = processCpuMs(process.pid) - self0
      const redisMs = redisPid ? processCpuMs(redisPid) - redisCpu0 : null
      const system = systemCpu()
      const pgActivity = probe ? probe.snapshot() : null
      const pg1 = database ? await pgProcesses(database) : null
      const pgBackendMs = pg1 ? usedSince(pgBackends0, pg1.backends) : null
      const pgBackgroundMs = pg1 ? usedSince(pgBackground0, pg1.background) : null
      const counters1 = await counters(topology)
      const redis1 = await redisCommands(topology)
      // Share of all cores busy over the window, whoever used them.
      const busyShare = (system.busyMs - system0.busyMs) / Math.max(1, system.totalMs - system0.totalMs)
      const machineBusyMs = busyShare * CORES * elapsedMs
      const generatorMs = generators.reduce((sum, value) => sum + value, 0)
      const knownMs =
        nodeMs.reduce((sum, value) => sum + value, 0) +
        generatorMs +
        selfMs +
        (pgBackendMs ?? 0) +
        (pgBackgroundMs ?? 0) +
        (topology.redis?.isShared ? 0 : (redisMs ?? 0))
      const redisDiff: Record<string, CommandStat> = {}
      for (const [name, stat] of redis1) {
        const before = redis0.get(name) ?? { calls: 0, usec: 0 }
        if (stat.calls > before.calls)
          redisDiff[name] = { calls: stat.calls - before.calls, usec: stat.usec - before.usec }
      }
      return {
        cpu: {
          elapsedMs,
          nodeMs,
          generatorMs,
          maxGeneratorPct: (100 * Math.max(0, ...generators)) / elapsedMs,
          pgBackendMs,
          pgBackgroundMs,
          redisMs,
          machinePct: 100 * busyShare,
          foreignMs: Math.max(0, machineBusyMs - knownMs),
        },
        nodes: topology.nodes.map((_, index) => {
          const diff = (key: keyof NodeCounters): number =>
            (counters1[index]?.get(COUNTERS[key]) ?? 0) - (counters0[index]?.get(COUNTERS[key]) ?? 0)
          return Object.fromEntries(
            (Object.keys(COUNTERS) as Array<keyof NodeCounters>).map((key) => [key, diff(key)]),
          ) as unknown as NodeCounters
        }),
        redisCommands: redisDiff,
        pgActivity,
        // prom-client resets its event-loop histogram at every scrape: this is since the window began.
        eventLoop: counters1.map((node) => ({
          p99Ms: 1000 * (node.get('nodejs_eventloop_lag_p99_seconds') ?? NaN),
          maxMs: 1000 * (node.get('nodejs_eventloop_lag_max_seconds') ?? NaN),
        })),
      }
    },
  }
}

/** Sum of one counter over every node. */
export function total(window: WindowMeasure, key: keyof NodeCounters): number {
  return window.nodes.reduce((sum, node) => sum + node[key], 0)
}

/** What a window measured from its start until now, and the window ended. */
export async function finish(window: Window): Promise<WindowMeasure> {
  const measured = await window.sample()
  await window.stop()
  return measured
}
