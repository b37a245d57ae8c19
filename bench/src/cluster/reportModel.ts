import { TOPOLOGIES, type TopologyId } from './config.ts'
import {
  costsAtCpuRate,
  costsByRate,
  costsOf,
  okReps,
  sharedCeilings,
  spreadOf,
  type ModelConstants,
  type Prediction,
  type Spread,
} from './model.ts'
import { fmt, num, table } from './format.ts'
import type { ClusterRun, StepResult } from './schema.ts'

const pct = (ms: number | null, elapsedMs: number): number => (ms === null ? NaN : (100 * ms) / elapsedMs)

/** The step where a repetition's ramp stopped, or its last one when it never did. */
function limitStep(steps: readonly StepResult[]): StepResult | undefined {
  return steps.find((s) => !s.isSteady) ?? steps.at(-1)
}

/** § Where the limit is: what every process did at the step each ramp stopped at. */
export function renderLimits(run: ClusterRun): string {
  const rows: string[][] = []
  const findings: string[] = []
  for (const id of run.topologies) {
    const steps = okReps(run, id).flatMap((rep) => {
      const step = limitStep(rep.ramp?.steps ?? [])
      return step ? [step] : []
    })
    if (steps.length === 0) continue
    const w = steps.map((s) => s.window)
    const col = (pick: (s: StepResult) => number | null, digits = 0): string =>
      fmt(spreadOf(steps.map(pick)), digits)
    const busiest = (s: StepResult): number =>
      Math.max(...s.window.cpu.nodeMs.map((ms) => pct(ms, s.window.cpu.elapsedMs)))
    rows.push([
      TOPOLOGIES[id].label,
      col((s) => s.rate),
      col((s) => s.window.cpu.machinePct),
      col((s) => pct(s.window.cpu.foreignMs, s.window.cpu.elapsedMs)),
      col(busiest),
      col((s) =>
        pct(
          s.window.cpu.nodeMs.reduce((a, b) => a + b, 0),
          s.window.cpu.elapsedMs,
        ),
      ),
      col((s) => pct(s.window.cpu.pgBackendMs, s.window.cpu.elapsedMs)),
      col((s) => pct(s.window.cpu.redisMs, s.window.cpu.elapsedMs)),
      w.every((x) => x.pgActivity === null) ? '–' : col((s) => 100 * (s.window.pgActivity?.lockShare ?? NaN)),
      w.every((x) => x.pgActivity === null)
        ? '–'
        : col((s) => s.window.pgActivity?.idleInTransaction ?? NaN, 1),
    ])
    const machine = spreadOf(steps.map((s) => s.window.cpu.machinePct)).median
    const node = spreadOf(steps.map(busiest)).median
    const locks = spreadOf(steps.map((s) => s.window.pgActivity?.lockShare)).median
    const reasons: string[] = []
    if (machine >= 90) reasons.push(`both cores were busy (${num(machine, 0)} %)`)
    if (node >= 90) reasons.push(`a node's event loop used ${num(node, 0)} % of a core`)
    if (locks >= 0.2)
      reasons.push(`in ${num(100 * locks, 0)} % of samples a commit waited for another node's row lock`)
    const commitMs = spreadOf(steps.map((st) => costsOf(st.complete, null).msPerCommit)).median
    const commitSize = spreadOf(steps.map((st) => costsOf(st.complete, null).entriesPerCommit)).median
    if (commitMs >= 50)
      reasons.push(`a group commit took ${num(commitMs, 0)} ms for ${num(commitSize, 0)} updates on average`)
    if (node < 60 && machine < 90 && locks < 0.2 && commitMs < 50)
      reasons.push('no process was saturated (latency, not CPU)')
    findings.push(`**${TOPOLOGIES[id].label}**: ${reasons.join('; ') || 'see the table'}.`)
  }
  const maxOf = (id: TopologyId): Spread =>
    spreadOf(okReps(run, id).map((rep) => rep.ramp?.maxSteadyRate ?? NaN))
  const shared = maxOf('pg-3')
  const own = maxOf('pg-3-rooms')
  if (shared.n > 0 && own.n > 0) {
    findings.push(
      `**Machine or design?** The same three nodes on the same two cores held ${fmt(own, 0)} updates/s with each ` +
        `room on one node and ${fmt(shared, 0)} with every room on every node: what differs is not the CPU ` +
        'available but the cross-node path — an update reaches the other nodes only after its commit, and ' +
        'commits of different nodes that share documents wait for each other’s row locks (lock-wait column).',
    )
  }
  return [
    '### Where the limit is',
    '',
    'Every process at the step where each ramp stopped (median over repetitions): the share of both cores, each ' +
      'Tandem node (% of one core: a node is one event loop), PostgreSQL backends of the run’s database and Redis, ' +
      'and, sampled every 50 ms from `pg_stat_activity`, how often a backend waited for a lock and how many sat ' +
      '“idle in transaction”: a commit between two statements, waiting for its node to send the next one.',
    '',
    table(
      [
        'topology',
        'stopped at updates/s',
        'machine busy %',
        'other users’ CPU %',
        'busiest node %',
        'all nodes %',
        'PG backends %',
        'Redis %',
        'lock waits, % of samples',
        'backends idle in transaction',
      ],
      rows,
    ),
    '',
    ...findings.map((f) => `- ${f}`),
  ].join('\n')
}

/** § 4: the model's constants, as measured, and what they predict for 10 and 100 nodes. */
export function renderModel(
  run: ClusterRun,
  c: ModelConstants,
  predict: (nodes: number) => Prediction,
): string {
  const s = run.profile.ramp.clientsPerRoom
  const rate = run.profile.ramp.cpuRate
  const commits = costsAtCpuRate(run, 'pg-3')
  const predictions = [3, 10, 100].map(predict)
  const kMax = Math.min(s, 100)
  const ceilings = sharedCeilings(c, kMax)
  return [
    '### 4. What the design predicts for 10 and 100 nodes',
    '',
    `An update costs **wa** on the node that accepts it — apply, broadcast to its own clients, its share of a group ` +
      'commit, one PUBLISH of the commit, and decoding its own message when Redis sends it back (a node subscribes ' +
      'to the channels it publishes on) — and **r** on every other node that has the document loaded: receive, ' +
      'decode, apply, broadcast to its own clients. A node subscribes only to documents it has loaded, so with rooms ' +
      `of ${s} clients spread round-robin a room is on k = min(${s}, N) nodes, and at a cluster rate U each node pays ` +
      'U · (wa + (k − 1) · r) / N. Once N ≥ k the cross-node part per node falls as 1/N: it does not grow with the ' +
      'cluster. What grows with U is shared: Redis pays a base plus a per-subscriber cost for each PUBLISH, on one ' +
      'core; PostgreSQL pays per commit and per document in it. wa and r come from the two 3-node runs (same ' +
      'processes on the same cores, rooms on one node or on all three): the same work costs more CPU on three ' +
      'processes sharing two cores than on one (compare w1), and the model should not charge that to the design.',
    '',
    `Constants, CPU ms per update (= CPU s per 1,000 updates), at ${num(rate, 0)} updates/s:`,
    '',
    table(
      ['constant', 'value', 'from'],
      [
        ['w0: all nodes, default LevelDB node', num(c.w0, 3), '1 node, LevelDB'],
        ['w1: the accepting node, PostgreSQL + Redis', num(c.w1, 3), '1 node, PostgreSQL + Redis'],
        ['w3: all nodes together', num(c.w3, 3), '3 nodes'],
        ['wa: all nodes, each room on one node (k = 1)', num(c.w3rooms, 3), '3 nodes, rooms on one node'],
        [
          'r = (w3 − wa) / 2: each other node with the document',
          num(c.r, 3),
          '3 nodes − 3 nodes with rooms on one node',
        ],
        ['PostgreSQL backends per update, 1 node / 3 nodes', `${num(c.pg1, 3)} / ${num(c.pg3, 3)}`, 'both'],
        [
          'Redis per PUBLISH, 1 / 3 subscribers',
          `${num(c.redis1, 4)} / ${num(c.redis3, 4)}`,
          'every step, /proc of redis-server',
        ],
        [
          'Redis per PUBLISH = base + k × per subscriber',
          `${num(c.redisBase, 4)} + k × ${num(c.redisPerSubscriber, 4)}`,
          'the two above',
        ],
        [
          'Redis per presence renewal (HSET + PEXPIRE, every 10 s per node and loaded document)',
          num(c.redisPerRenewal, 4),
          'idle windows, 3 nodes',
        ],
      ],
    ),
    '',
    `Predicted CPU per 1,000 updates made anywhere in the cluster, rooms of ${s} clients, with the constants above. ` +
      `They are costs at ${num(rate, 0)} updates/s, where a commit and an event-loop turn carry the fewest updates: ` +
      'an update costs less at higher rates (next table), so these are upper bounds.',
    '',
    table(
      [
        'nodes',
        'nodes per room (k)',
        'each node, CPU s',
        'of it cross-node, CPU s',
        'cross-node share',
        'Redis CPU s',
        'PostgreSQL CPU s',
      ],
      predictions.map((p) => [
        num(p.nodes, 0),
        num(p.nodesPerRoom, 0),
        num(p.perNodeSPer1k, 3),
        num(p.crossSPer1k, 3),
        `${num(100 * p.crossShare, 0)} %`,
        num(p.redisSPer1k, 3),
        num(p.pgSPer1k, 3),
      ]),
    ),
    '',
    'All nodes together and PostgreSQL’s backends, CPU ms per update by rate (median; a rate a topology did not ' +
      'run is blank): the cost per update falls as batches grow.',
    '',
    table(
      ['topology', ...run.profile.ramp.steps.map((r) => `${num(r, 0)}/s`)],
      run.topologies.map((id) => {
        const byRate = costsByRate(run, id)
        return [
          TOPOLOGIES[id].label,
          ...run.profile.ramp.steps.map((r) => {
            const cost = byRate.get(r)
            return cost ? `${num(cost.nodes, 2)}${cost.pg === null ? '' : ` / ${num(cost.pg, 2)}`}` : ''
          }),
        ]
      }),
    ),
    '',
    `- Shared ceilings: one Redis core carries ≈ ${num(ceilings.redis, 0)} PUBLISH/s with k = ${kMax} subscribers ` +
      'each (pub/sub is single-threaded; a commit publishes once per document in it, ≈ once per update with ' +
      `${num(run.profile.ramp.rooms, 0)} rooms) — about that many updates/s for the whole cluster, however many ` +
      'nodes. PostgreSQL paid ' +
      `${num(c.pg3, 2)} ms per update at ${num(rate, 0)}/s (≈ ${num(ceilings.pgPerCore, 0)} updates/s per core), ` +
      'less at higher rates. Past a few dozen nodes, Redis (sharded pub/sub: SSUBSCRIBE/SPUBLISH on a Redis ' +
      'Cluster) and PostgreSQL are the limits, not the nodes, whose cross-node cost per update falls as 1/N.',
    `- A document whose clients are on every node (one large audience) is on k = N nodes: every node pays r for ` +
      `each of its updates whatever N is (≈ ${num(1000 / c.r, 0)} updates/s of it per node core), and Redis delivers ` +
      'each of its PUBLISHes N times: such a document does not scale out; many small ones do.',
    `- Commits: at ${num(rate, 0)} updates/s on 3 nodes a group commit held ${fmt(spreadOf(commits.map((x) => x.entriesPerCommit)), 0)} ` +
      `updates and took ${fmt(spreadOf(commits.map((x) => x.msPerCommit)), 0)} ms. The other nodes see an update only ` +
      'after its commit, so commit time is cross-node latency; a commit costs two statements per document in it, ' +
      'one after the other, in one transaction that holds each document’s `tandem_docs` row lock until COMMIT. ' +
      'Nodes whose batches share documents therefore commit one after the other, and the time grows with the ' +
      'documents per batch, not with CPU: at 10 or 100 nodes, rooms on 5 nodes each, every document row is ' +
      'written by up to 5 nodes, and the ramp’s lock-wait share is the warning.',
  ].join('\n')
}
