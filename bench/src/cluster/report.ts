import { readFile, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { DOCS_DIR, REPO_ROOT } from '../paths.ts'
import { TOPOLOGIES } from './config.ts'
import { fmt, num, table } from './format.ts'
import { costsAtCpuRate, cpuSteps, modelConstants, okReps, predict, spreadOf } from './model.ts'
import { CLUSTER_END, CLUSTER_START, prettierFormat, withClusterBlock } from './section.ts'
import { renderLimits, renderModel } from './reportModel.ts'
import { CLUSTER_SCHEMA, type ClusterRun } from './schema.ts'

const pctOf = (ms: number | null, elapsedMs: number): number => (ms === null ? NaN : (100 * ms) / elapsedMs)

function renderFanout(run: ClusterRun): string {
  const rows: string[][] = []
  for (const id of run.topologies) {
    const reps = okReps(run, id)
    for (const rate of run.profile.fanout.rates) {
      const results = reps.flatMap((rep) => rep.fanout.filter((f) => f.rate === rate))
      if (results.length === 0) continue
      const cross = results.map((f) => f.crossNode)
      rows.push([
        TOPOLOGIES[id].label,
        `${rate}/s`,
        fmt(spreadOf(results.map((f) => f.sameNode.p50Ms))),
        fmt(spreadOf(results.map((f) => f.sameNode.p99Ms))),
        cross.every((c) => c === null) ? '–' : fmt(spreadOf(cross.map((c) => c?.p50Ms))),
        cross.every((c) => c === null) ? '–' : fmt(spreadOf(cross.map((c) => c?.p99Ms))),
        results[0]?.window.cpu.nodeMs
          .map((_, i) =>
            fmt(
              spreadOf(results.map((f) => pctOf(f.window.cpu.nodeMs[i] ?? NaN, f.window.cpu.elapsedMs))),
              0,
            ),
          )
          .join(' / ') ?? '–',
        fmt(spreadOf(results.map((f) => pctOf(f.window.cpu.foreignMs, f.window.cpu.elapsedMs))), 0),
      ])
    }
  }
  const readers = run.profile.fanout.readersPerGroup
  return [
    '### 1. Fan-out latency: readers on the writer’s node and on the other nodes',
    '',
    `One writer on node 1 appends one character per update at each rate for ${num(run.profile.fanout.phaseMs / 1000, 1)} s to a room of ` +
      `${2 * readers} readers: ${readers} on node 1 and ${readers} on the other nodes (on one node, all ${2 * readers} on it). ` +
      'Latency runs from the writer making the change to a reader holding it, on the machine-wide monotonic clock. ' +
      'A node sends an update to its own clients as soon as it applies it; other nodes get it after it is committed ' +
      'to PostgreSQL and published on Redis (SPEC R65), so the difference of the two columns is commit + PUBLISH + apply.',
    '',
    table(
      [
        'topology',
        'rate',
        'same node p50 ms',
        'same node p99 ms',
        'other nodes p50 ms',
        'other nodes p99 ms',
        'node CPU % (node 1 / …)',
        'other users’ CPU %',
      ],
      rows,
    ),
  ].join('\n')
}

function renderRamp(run: ClusterRun): string {
  const { ramp } = run.profile
  const rows: string[][] = []
  const notes: string[] = []
  for (const id of run.topologies) {
    const reps = okReps(run, id).filter((rep) => rep.ramp)
    if (reps.length === 0) continue
    const maxima = reps.map((rep) => rep.ramp?.maxSteadyRate ?? NaN)
    const isLowerBound = reps.some((rep) => rep.ramp?.isLowerBound)
    const at = cpuSteps(run, id).map(({ step }) => step)
    rows.push([
      TOPOLOGIES[id].label,
      `${isLowerBound ? '≥ ' : ''}${fmt(spreadOf(maxima), 0)}`,
      fmt(spreadOf(at.map((s) => s.latency.p50Ms))),
      fmt(spreadOf(at.map((s) => s.latency.p99Ms))),
      fmt(spreadOf(at.map((s) => s.ackP99Ms))),
      fmt(spreadOf(reps.map((rep) => (rep.ramp?.joinMs ?? NaN) / 1000))),
    ])
    for (const rep of reps) {
      notes.push(
        `${TOPOLOGIES[id].label}, run ${rep.repetition}: ${
          rep.ramp?.stopReason ? `stopped at ${rep.ramp.stopReason}` : 'never left the bound'
        }.`,
      )
    }
  }
  for (const rep of run.reps.filter((r) => !r.ok)) {
    notes.push(
      `${TOPOLOGIES[rep.topology].label}, run ${rep.repetition}: **failed**: ${rep.error?.split('\n')[0] ?? ''}`,
    )
  }
  return [
    `### 2. Highest steady rate: ${num(ramp.rooms, 0)} rooms × ${ramp.clientsPerRoom} clients`,
    '',
    `Every client writes (one character per update) and receives the other ${ramp.clientsPerRoom - 1}’s updates; client c of ` +
      `room r is on node (${ramp.clientsPerRoom}r + c) mod N, so with 3 nodes every room is loaded on every node; in the ` +
      'control “each room on one node” all clients of room r are on node r mod N (a balancer routing by document), ' +
      'so no update crosses nodes and no two nodes write the same document. The total ' +
      `rate steps through ${ramp.steps.map((s) => num(s, 0)).join(', ')} updates/s, ${num(ramp.stepMs / 1000, 1)} s each. ` +
      `A step is steady when p99 delivery stays under **${ramp.p99LimitMs} ms**, every update reaches every client within ` +
      `${num(ramp.drainMs / 1000, 0)} s, the generators keep the rate, and nothing is dropped: no client closed, no input ` +
      'rejected, no cluster message left unpublished (`tandem_cluster_messages_dropped_total`). A step that misses only ' +
      'the bound is run once more. After the ramp every replica must hold the same text and a fresh client joining ' +
      'another node than the room’s creator must receive it.',
    '',
    table(
      [
        'topology',
        'max steady updates/s',
        `p50 ms @${ramp.cpuRate}/s`,
        `p99 ms @${ramp.cpuRate}/s`,
        `saved-ack p99 ms @${ramp.cpuRate}/s`,
        `joining ${num(ramp.rooms * ramp.clientsPerRoom, 0)} clients, s`,
      ],
      rows,
    ),
    '',
    ...notes.map((note) => `- ${note}`),
  ].join('\n')
}

function renderCpu(run: ClusterRun): string {
  const rows: string[][] = []
  for (const id of run.topologies) {
    const costs = costsAtCpuRate(run, id)
    if (costs.length === 0) continue
    const windows = cpuSteps(run, id).map(({ step }) => step.window)
    const col = (pick: (c: (typeof costs)[number]) => number | null, digits = 3): string =>
      costs.every((c) => pick(c) === null) ? '–' : fmt(spreadOf(costs.map(pick)), digits)
    const nodeCount = costs[0]?.perNode.length ?? 0
    rows.push([
      TOPOLOGIES[id].label,
      Array.from({ length: nodeCount }, (_, i) => col((c) => c.perNode[i] ?? NaN)).join(' / '),
      col((c) => c.nodes),
      col((c) => c.pgBackends),
      col((c) => c.pgBackground),
      col((c) => c.redis),
      col((c) => c.generators),
      col((c) => c.framesPerUpdate, 2),
      col((c) => c.publishesPerUpdate, 2),
      `${col((c) => c.entriesPerCommit, 0)} / ${col((c) => c.msPerCommit, 0)}`,
      fmt(spreadOf(windows.map((w) => w.cpu.machinePct)), 0),
      fmt(spreadOf(windows.map((w) => pctOf(w.cpu.foreignMs, w.cpu.elapsedMs))), 0),
    ])
  }
  return [
    `### 3. CPU per 1,000 updates at ${num(run.profile.ramp.cpuRate, 0)} updates/s`,
    '',
    'CPU seconds per 1,000 updates accepted anywhere (= ms per update), from /proc/<pid>/stat of every process, ' +
      'less what the same process used per second in an idle window with every client connected. PostgreSQL ' +
      '“backends” are the sessions of the run’s own database; “background” is the server’s WAL writer, checkpointer ' +
      'and background writer, which also work for other databases on the machine. Redis is a private `redis-server` ' +
      'unless the run says otherwise. Both cores are shared by everything in the table.',
    '',
    table(
      [
        'topology',
        'each node',
        'all nodes',
        'PG backends',
        'PG background',
        'Redis',
        'load generators',
        'frames out / update',
        'PUBLISH / update',
        'updates / ms per commit',
        'machine busy %',
        'other users’ CPU %',
      ],
      rows,
    ),
  ].join('\n')
}

export function renderClusterSection(run: ClusterRun, resultsFile: string): string {
  const started = new Date(run.startedAt)
  const date = `${started.toISOString().slice(0, 10)} ${started.toISOString().slice(11, 16)} UTC`
  const mode =
    run.mode === 'full'
      ? 'Full run'
      : '**Quick run** (smaller load, one repetition: a smoke test, not a result)'
  const m = run.machine
  const constants = modelConstants(run)
  return [
    CLUSTER_START,
    '',
    '## Cluster',
    '',
    `<!-- Generated by bench/src/cluster/run.ts from ${resultsFile}; do not edit by hand. -->`,
    '',
    `${mode} of ${date}, ${num(run.durationS / 60, 0)} min; medians of ${run.profile.repetitions} repetition(s), ` +
      `(min–max) over them. Command: \`${run.command}\`. ${m.cores} × ${m.cpuModel}, Node ${m.node}; load average ` +
      `${num(m.loadAtStart, 1)} at the start, ${num(m.loadAtEnd, 1)} at the end${
        m.loadAtStart > m.cores || m.loadAtEnd > m.cores
          ? ' — **other work was running on the machine; the “other users’ CPU” columns say how much**'
          : ''
      }.`,
    '',
    'Topologies, each started fresh for every repetition (repetitions are the outer loop): ' +
      Object.values(TOPOLOGIES)
        .filter((t) => run.topologies.includes(t.id))
        .map((t) => `**${t.label}**`)
        .join(', ') +
      '. Cluster nodes share one new PostgreSQL 15 database on the machine’s server (fsync and synchronous commit on) ' +
      `and ${run.isRedisShared ? 'the machine’s shared Redis' : 'a private Redis 7'} with a prefix of the run’s own; ` +
      'each has its own `NODE_NAME` and a private `/metrics` port the harness reads. Nodes, PostgreSQL, Redis, three ' +
      'load-generator processes and the harness all share the machine’s cores.',
    '',
    renderFanout(run),
    '',
    renderRamp(run),
    '',
    renderCpu(run),
    '',
    renderLimits(run),
    '',
    renderModel(run, constants, (n) => predict(constants, n, run.profile.ramp.clientsPerRoom)),
    '',
    `Reproduce: \`node --import tsx bench/src/cluster/run.ts --full\` (≤ 10 min; \`--quick\` ≤ 3 min; ` +
      '`--topologies pg-1,pg-3,pg-3-rooms`, `--only fanout|ramp`, `--reps n`, `--shared-redis redis://127.0.0.1:6379`); ' +
      '`--report <results.json>` re-renders this section. Raw results: `bench/results/cluster-*.json` (not committed).',
    '',
    CLUSTER_END,
  ].join('\n')
}

/** Writes § Cluster into docs/BENCHMARKS.md, leaving every other section as it is. */
export async function writeClusterSection(run: ClusterRun, resultsFile: string): Promise<string> {
  const schema: string = run.schema
  if (schema !== CLUSTER_SCHEMA) throw new Error(`results schema ${schema}, expected ${CLUSTER_SCHEMA}`)
  const target = join(DOCS_DIR, 'BENCHMARKS.md')
  const block = renderClusterSection(run, relative(REPO_ROOT, resultsFile))
  const current = await readFile(target, 'utf8').catch(() => '# Benchmarks\n')
  await writeFile(target, await prettierFormat(withClusterBlock(current, block), target))
  return target
}
