import { prepareTrace } from '../data/trace.ts'
import type { PeerProcess } from '../peers/PeerProcess.ts'
import { clientSpec, createRoom } from '../peers/rooms.ts'
import type { RepResult, ScenarioResult } from '../schema.ts'
import { startCpuWindow } from '../util/proc.ts'
import { cpuMetrics, limitsOf, openClients, repeat, verifyReplicas, withPeer } from './harness.ts'
import { verifierFor } from './fanoutRun.ts'
import type { RunContext, Scenario } from './types.ts'

/**
 * One writer replays the automerge-paper trace, one op per update, keeping at most `windowOps` ops
 * ahead of one reader (a full replica applying every update, in the same generator process so the
 * window needs no messages). The run ends when the reader's text is the trace's text.
 */
async function measureReplay(context: RunContext, server: PeerProcess): Promise<RepResult> {
  const { pool, profile } = context
  const trace = await prepareTrace(profile.trace.ops, profile.trace.checkpointEvery)
  const room = await createRoom(server, 'trace')
  const reader = clientSpec(server, room, { id: 'reader', replica: 'full' })
  const writer = clientSpec(server, room, { id: 'writer', replica: 'none' })
  await openClients(pool, [{ worker: 0, specs: [reader, writer] }])
  const cpu = startCpuWindow(server.pid, pool.pids)
  const replay = await pool.call(0, {
    op: 'replay',
    writerId: writer.id,
    readerId: reader.id,
    file: trace.file,
    traceClientId: trace.clientId,
    clockAfter: trace.clockAfter,
    checkpoints: trace.checkpoints,
    windowOps: profile.trace.windowOps,
    maxMs: profile.trace.maxMs,
    timeoutMs: 300_000,
  })
  const usage = cpu.stop()
  await verifyReplicas(pool, server, verifierFor(server, room))
  context.log(`    ${replay.ops} ops in ${(replay.elapsedMs / 1000).toFixed(1)} s`)
  const limits = limitsOf(usage)
  const isCut = replay.ops < trace.ops
  return {
    ok: true,
    metrics: { opsPerSecond: (replay.ops * 1000) / replay.elapsedMs, ops: replay.ops, ...cpuMetrics(usage) },
    limits: isCut
      ? {
          ...limits,
          notes: [...limits.notes, `stopped at the time cap after ${replay.ops} of ${trace.ops} ops`],
        }
      : limits,
  }
}

/** (5) A real editing trace, as fast as the server keeps up. */
export const trace: Scenario = {
  id: 'trace',
  title: 'Replaying a real editing trace',
  method:
    'The automerge-paper trace (259,778 single-character edits of a LaTeX paper, Kleppmann & Beresford, CC BY 4.0, ' +
    'read from ../shared/data) is turned into one Yjs update per edit (once, cached), then sent by one writer while ' +
    'one reader applies every update it receives; at most 256 ops are in flight. Ops/s = ops / time until the ' +
    'reader’s text is exactly the trace’s text at that point. A run longer than the time cap stops at the next ' +
    '10,000-op checkpoint (and says so).',
  columns: [
    { metric: 'opsPerSecond', label: 'ops/s', digits: 0 },
    { metric: 'ops', label: 'ops replayed', digits: 0 },
    { metric: 'serverCpuPct', label: 'server CPU %', digits: 0 },
    { metric: 'clientCpuPct', label: 'client CPU %', digits: 0 },
  ],
  chart: { metric: 'opsPerSecond', label: 'trace ops per second', isLowerBetter: false },
  async run(context): Promise<ScenarioResult> {
    const startedAt = Date.now()
    context.log('  preparing the trace (cached after the first run)')
    await prepareTrace(context.profile.trace.ops, context.profile.trace.checkpointEvery)
    const results = await repeat(
      context,
      context.peers,
      () => [{ key: 'replay', config: { ops: context.profile.trace.ops } }],
      (peer, record) =>
        withPeer(context, peer, async (server) => record('replay', await measureReplay(context, server))),
    )
    return {
      id: 'trace',
      title: trace.title,
      params: { ...context.profile.trace },
      cases: results,
      notes: [
        `Every server replays the same first ${context.profile.trace.ops.toLocaleString('en-US')} of the trace’s 259,778 ops (the whole trace takes minutes per run on the slower servers).`,
        'The reader applies every update (a relay-based system’s clients must), so the relay’s figure is what a client can apply.',
      ],
      durationS: (Date.now() - startedAt) / 1000,
    }
  },
}
