/**
 * Runs the side-by-side benchmark and writes bench/results/<time>-<mode>.json, then
 * docs/BENCHMARKS.md and docs/bench/*.svg from it.
 *
 *   node --import tsx bench/src/run.ts --quick|--full [--only fanout,join] [--peers tandem,relay]
 *     [--reps 1] [--env MAX_MESSAGES_PER_SECOND=100000] [--cpu-prof tandem] [--heap-snapshot tandem] [--no-report]
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { profileFor } from './config.ts'
import { WorkerPool } from './load/pool.ts'
import { PEER_IDS, peerInfo } from './peers/peers.ts'
import { RESULTS_DIR } from './paths.ts'
import { writeReport } from './report.ts'
import { SCENARIOS } from './scenarios/index.ts'
import { SCHEMA, type PeerId, type RunResults, type ScenarioResult } from './schema.ts'
import { currentLoad, machineInfo } from './util/machine.ts'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    only: { type: 'string' },
    peers: { type: 'string' },
    'no-report': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'heap-snapshot': { type: 'string' },
    reps: { type: 'string' },
    env: { type: 'string', multiple: true },
  },
})
if (values.quick === values.full) {
  console.error(
    'usage: run.ts --quick|--full [--only fanout,throughput,...] [--peers tandem,relay,...] [--reps n] [--env KEY=VALUE] [--cpu-prof peer] [--heap-snapshot peer] [--no-report]',
  )
  process.exit(2)
}
const baseProfile = profileFor(values.full ? 'full' : 'quick')
// --reps N: fewer or more repetitions than the mode's (the report says how many were run).
const profile = values.reps ? { ...baseProfile, repetitions: Math.max(1, Number(values.reps)) } : baseProfile
const only = values.only?.split(',').map((s) => s.trim())
const peers = (values.peers?.split(',').map((s) => s.trim()) ?? PEER_IDS) as PeerId[]
for (const peer of peers) {
  if (!PEER_IDS.includes(peer)) throw new Error(`unknown peer ${peer}; known: ${PEER_IDS.join(', ')}`)
}
const scenarios = SCENARIOS.filter((s) => !only || only.includes(s.id))
// --env KEY=VALUE (repeatable): a setting for every server, e.g. to see what a Tandem limit costs.
// The results and the report say so: the run no longer compares default configurations.
const peerEnv: Record<string, string> = {}
for (const pair of values.env ?? []) {
  const at = pair.indexOf('=')
  if (at < 1) throw new Error(`--env wants KEY=VALUE, got ${pair}`)
  peerEnv[pair.slice(0, at)] = pair.slice(at + 1)
}
// --cpu-prof <peer>: that peer's server writes a V8 CPU profile per process into bench/results/profiles.
const profiledPeer = values['cpu-prof']
const peerNodeArgs = (peer: PeerId): string[] =>
  peer === profiledPeer
    ? ['--cpu-prof', '--cpu-prof-interval=5000', `--cpu-prof-dir=${join(RESULTS_DIR, 'profiles')}`]
    : []
// --heap-snapshot <peer>: the memory scenario writes that peer's heap at each connection count.
const heapSnapshotDir = (peer: PeerId): string | null =>
  peer === values['heap-snapshot'] ? join(RESULTS_DIR, 'profiles') : null

const startedAt = new Date()
const loadAtStart = currentLoad()
const log = (message: string): void => {
  const seconds = ((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4)
  console.log(`[${seconds}s] ${message}`)
}
log(`${profile.mode} run: ${scenarios.map((s) => s.id).join(', ')} × ${peers.join(', ')}`)
const pool = await WorkerPool.start(profile.workers)
const results: ScenarioResult[] = []
try {
  for (const scenario of scenarios) {
    log(`${scenario.id}: ${scenario.title}`)
    const scenarioStartedAt = Date.now()
    try {
      results.push(await scenario.run({ profile, pool, peers, log, peerNodeArgs, heapSnapshotDir, peerEnv }))
    } catch (error) {
      // One scenario that cannot run (a missing trace file, a peer that will not start) must not
      // lose the others' results: it is reported as not run, with the reason.
      const reason = error instanceof Error ? error.message : String(error)
      log(`${scenario.id} did not run: ${reason}`)
      results.push({
        id: scenario.id,
        title: scenario.title,
        params: {},
        cases: [],
        notes: [`**Did not run:** ${reason.split('\n')[0] ?? ''}`],
        durationS: (Date.now() - scenarioStartedAt) / 1000,
      })
    }
  }
} finally {
  await pool.stop()
}
const finishedAt = new Date()
const run: RunResults = {
  schema: SCHEMA,
  mode: profile.mode,
  startedAt: startedAt.toISOString(),
  finishedAt: finishedAt.toISOString(),
  durationS: (finishedAt.getTime() - startedAt.getTime()) / 1000,
  repetitions: profile.repetitions,
  peerEnv,
  machine: machineInfo(loadAtStart),
  peers: peers.map(peerInfo),
  scenarios: results,
}
await mkdir(RESULTS_DIR, { recursive: true })
const file = join(RESULTS_DIR, `${startedAt.toISOString().replace(/[:.]/g, '-')}-${profile.mode}.json`)
await writeFile(file, JSON.stringify(run, null, 2))
await writeFile(join(RESULTS_DIR, 'latest.json'), JSON.stringify(run, null, 2))
log(`results: ${file}`)
if (!values['no-report']) log(`report: ${await writeReport(run, file)}`)
