/**
 * The cluster scenario (docs/BENCHMARKS.md § Cluster): 1 node against 3 nodes on PostgreSQL + Redis,
 * with the default single LevelDB node for reference. Writes bench/results/cluster-<time>-<mode>.json
 * and the § Cluster section of docs/BENCHMARKS.md from it.
 *
 *   node --import tsx bench/src/cluster/run.ts --quick|--full [--reps 3] [--topologies leveldb-1,pg-1,pg-3,pg-3-rooms]
 *     [--only fanout,ramp] [--shared-redis redis://127.0.0.1:6379] [--no-report]
 *   node --import tsx bench/src/cluster/run.ts --report bench/results/cluster-latest.json
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { WorkerPool } from '../load/pool.ts'
import { RESULTS_DIR } from '../paths.ts'
import { currentLoad, machineInfo } from '../util/machine.ts'
import { TOPOLOGIES, TOPOLOGY_IDS, clusterProfileFor, type TopologyId } from './config.ts'
import { measureClusterFanout } from './fanout.ts'
import { measureClusterRamp } from './ramp.ts'
import { writeClusterSection } from './report.ts'
import { CLUSTER_SCHEMA, type ClusterRepResult, type ClusterRun } from './schema.ts'
import { startTopology } from './topology.ts'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    reps: { type: 'string' },
    topologies: { type: 'string' },
    only: { type: 'string' },
    'shared-redis': { type: 'string' },
    'no-report': { type: 'boolean', default: false },
    report: { type: 'string' },
  },
})

if (values.report) {
  const run = JSON.parse(await readFile(values.report, 'utf8')) as ClusterRun
  console.log(await writeClusterSection(run, values.report))
  process.exit(0)
}
if (values.quick === values.full) {
  console.error(
    'usage: cluster/run.ts --quick|--full [--reps n] [--topologies leveldb-1,pg-1,pg-3,pg-3-rooms] [--only fanout,ramp] ' +
      '[--shared-redis redis://…] [--no-report]  |  --report <results.json>',
  )
  process.exit(2)
}

const base = clusterProfileFor(values.full ? 'full' : 'quick')
const profile = values.reps ? { ...base, repetitions: Math.max(1, Number(values.reps)) } : base
const topologies = (values.topologies?.split(',').map((s) => s.trim()) ?? TOPOLOGY_IDS) as TopologyId[]
for (const id of topologies) {
  if (!TOPOLOGY_IDS.includes(id)) throw new Error(`unknown topology ${id}; known: ${TOPOLOGY_IDS.join(', ')}`)
}
const only = new Set(values.only?.split(',').map((s) => s.trim()) ?? ['fanout', 'ramp'])
const sharedRedisUrl = values['shared-redis'] ?? null

const startedAt = new Date()
const loadAtStart = currentLoad()
const log = (message: string): void => {
  const seconds = ((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4)
  console.log(`[${seconds}s] ${message}`)
}
log(`cluster ${profile.mode} run: ${topologies.join(', ')} × ${profile.repetitions} repetition(s)`)
const pool = await WorkerPool.start(profile.workers)
const reps: ClusterRepResult[] = []
try {
  // Repetitions outermost: noise on the shared machine spreads over every topology.
  for (let repetition = 1; repetition <= profile.repetitions; repetition++) {
    for (const id of topologies) {
      const repStartedAt = Date.now()
      log(`${TOPOLOGIES[id].label} (repetition ${repetition}/${profile.repetitions})`)
      const topology = await startTopology(TOPOLOGIES[id], { sharedRedisUrl })
      let result: Omit<ClusterRepResult, 'durationS'>
      try {
        // The fan-out places its clients itself: for the rooms-on-one-node control it would repeat pg-3.
        const hasFanout = only.has('fanout') && TOPOLOGIES[id].spread === 'clients'
        const fanout = hasFanout ? await measureClusterFanout(topology, pool, profile.fanout) : []
        for (const f of fanout) {
          log(
            `  fan-out ${f.rate}/s: same node p50 ${f.sameNode.p50Ms.toFixed(1)} / p99 ${f.sameNode.p99Ms.toFixed(1)} ms` +
              (f.crossNode
                ? `, other nodes p50 ${f.crossNode.p50Ms.toFixed(1)} / p99 ${f.crossNode.p99Ms.toFixed(1)} ms`
                : ''),
          )
        }
        const ramp = only.has('ramp') ? await measureClusterRamp(topology, pool, profile.ramp, log) : null
        if (ramp)
          log(
            `  max steady ${ramp.maxSteadyRate}/s${ramp.stopReason ? ` (stopped at ${ramp.stopReason})` : ''}`,
          )
        result = { topology: id, repetition, ok: true, fanout, ramp }
      } catch (error) {
        // A run that lost or corrupted an update is a failure, never a data point; the others go on.
        const message = error instanceof Error ? error.message : String(error)
        log(`  FAILED: ${message}`)
        result = { topology: id, repetition, ok: false, error: message, fanout: [], ramp: null }
        await pool.all({ op: 'close' })
      } finally {
        await topology.stop()
      }
      reps.push({ ...result, durationS: (Date.now() - repStartedAt) / 1000 })
    }
  }
} finally {
  await pool.stop()
}

const finishedAt = new Date()
const run: ClusterRun = {
  schema: CLUSTER_SCHEMA,
  mode: profile.mode,
  command: `node --import tsx bench/src/cluster/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
  startedAt: startedAt.toISOString(),
  finishedAt: finishedAt.toISOString(),
  durationS: (finishedAt.getTime() - startedAt.getTime()) / 1000,
  machine: machineInfo(loadAtStart),
  profile,
  topologies,
  isRedisShared: sharedRedisUrl !== null,
  reps,
}
await mkdir(RESULTS_DIR, { recursive: true })
const file = join(
  RESULTS_DIR,
  `cluster-${startedAt.toISOString().replace(/[:.]/g, '-')}-${profile.mode}.json`,
)
await writeFile(file, JSON.stringify(run, null, 2))
await writeFile(join(RESULTS_DIR, 'cluster-latest.json'), JSON.stringify(run, null, 2))
log(`results: ${file}`)
if (!values['no-report']) log(`report: ${await writeClusterSection(run, file)}`)
