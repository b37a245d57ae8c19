import type { WorkerPool } from '../load/pool.ts'
import type { ClientSpec } from '../load/spec.ts'
import { clientSpec, createRoom, type Room } from '../peers/rooms.ts'
import { VerificationError, achievedRate, openClients, verifyReplicas } from '../scenarios/harness.ts'
import { summarize } from '../util/stats.ts'
import type { ClusterProfile } from './config.ts'
import { finish, startWindow } from './sampler.ts'
import type { FanoutResult, Latencies } from './schema.ts'
import type { RunningTopology } from './topology.ts'

/** Worker 0 hosts the writer alone, worker 1 the readers on its node, worker 2 the others. */
const WRITER_WORKER = 0
const SAME_NODE_WORKER = 1
const OTHER_WORKER = 2

const latencies = (values: Float64Array): Latencies => {
  const { samples, p50Ms, p99Ms, maxMs } = summarize(values)
  return { samples, p50Ms, p99Ms, maxMs }
}

/**
 * One writer on node 1 and two groups of readers in one room: one group on the writer's node, the
 * other spread over the other nodes (on a single node, both groups are on it). Each group lives in a
 * generator process of its own, so each process's latencies are one group's: same-node delivery
 * (the node broadcasts as it applies) against cross-node delivery (commit to PostgreSQL, PUBLISH,
 * the other node decodes, applies and broadcasts; SPEC R65). Every node's copy is verified after.
 */
export async function measureClusterFanout(
  topology: RunningTopology,
  pool: WorkerPool,
  settings: ClusterProfile['fanout'],
): Promise<FanoutResult[]> {
  if (pool.size < 3) throw new Error('the cluster fan-out needs 3 load generators')
  const writerNode = topology.node(0)
  const room = await createRoom(writerNode.server, 'cfan')
  const isCluster = topology.nodes.length > 1
  const reader = (group: string, index: number, nodeIndex: number): ClientSpec =>
    clientSpec(topology.node(nodeIndex).server, room, { id: `cfan-${group}${index}` })
  const same = Array.from({ length: settings.readersPerGroup }, (_, i) => reader('s', i, 0))
  // Nodes 2..N in turn; on one node, the second group is on it too.
  const others = Array.from({ length: settings.readersPerGroup }, (_, i) =>
    reader('o', i, isCluster ? 1 + (i % (topology.nodes.length - 1)) : 0),
  )
  const writer = clientSpec(writerNode.server, room, { id: 'cfan-w', isWriter: true })
  await openClients(pool, [
    { worker: SAME_NODE_WORKER, specs: same },
    { worker: OTHER_WORKER, specs: others },
  ])
  await openClients(pool, [{ worker: WRITER_WORKER, specs: [writer] }])
  await topology.settle()
  const results: FanoutResult[] = []
  for (const rate of settings.rates) {
    const window = await startWindow(topology, pool)
    const written = await pool.call(WRITER_WORKER, {
      op: 'write',
      writers: [writer.id],
      rate,
      durationMs: settings.phaseMs,
    })
    const expected = written.sentTimes.map((s) => ({
      room: s.room,
      clientId: s.clientId,
      clock: s.fromClock + s.times.length,
    }))
    const waits = await pool.all({ op: 'await', expected, timeoutMs: settings.drainMs })
    const measured = await finish(window)
    if (!waits.every((w) => w.ok)) {
      throw new VerificationError(
        `fan-out at ${rate}/s not delivered within ${settings.drainMs} ms: ${waits
          .flatMap((w) => w.lagging)
          .slice(0, 2)
          .join('; ')}`,
      )
    }
    const sent = written.sentTimes
    const [sameAnswer, otherAnswer] = await Promise.all([
      pool.call(SAME_NODE_WORKER, { op: 'latencies', sent }),
      pool.call(OTHER_WORKER, { op: 'latencies', sent }),
    ])
    if (sameAnswer.missing + otherAnswer.missing > 0) {
      throw new VerificationError(`fan-out at ${rate}/s: ${sameAnswer.missing + otherAnswer.missing} lost`)
    }
    results.push({
      rate,
      achievedRate: achievedRate(written),
      sameNode: latencies(
        isCluster
          ? sameAnswer.latencies
          : Float64Array.from([...sameAnswer.latencies, ...otherAnswer.latencies]),
      ),
      crossNode: isCluster ? latencies(otherAnswer.latencies) : null,
      window: measured,
    })
  }
  await verifyEveryNode(topology, pool, room)
  await pool.all({ op: 'close' })
  return results
}

/** Every replica holds the same text, and a fresh client joining each node receives it. */
async function verifyEveryNode(topology: RunningTopology, pool: WorkerPool, room: Room): Promise<void> {
  for (const node of topology.nodes) {
    await verifyReplicas(pool, node.server, (key, expect) =>
      key === room.key
        ? clientSpec(node.server, room, { id: `cfan-verify-${node.name}`, replica: 'full', expect })
        : null,
    )
  }
}
