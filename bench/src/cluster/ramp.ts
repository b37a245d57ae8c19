import type { WorkerPool } from '../load/pool.ts'
import type { ClientSpec, SentTimes } from '../load/spec.ts'
import { clientSpec, createRoom, type Room } from '../peers/rooms.ts'
import { VerificationError, openClients, verifyReplicas } from '../scenarios/harness.ts'
import { sleep } from '../util/clock.ts'
import { concatFloat64, percentileSorted, summarize } from '../util/stats.ts'
import type { ClusterProfile } from './config.ts'
import { finish, startWindow, total } from './sampler.ts'
import type { RampResult, StepResult } from './schema.ts'
import type { RunningTopology } from './topology.ts'

/** Documents are created over REST a few at a time, each on the next node. */
const CREATE_CONCURRENCY = 16
/** How long a late step may take to finish its work before the next one starts. */
const ACCOUNTING_MS = 30_000

async function createRooms(topology: RunningTopology, count: number): Promise<Room[]> {
  const rooms: Room[] = new Array<Room>(count)
  let next = 0
  const lane = async (): Promise<void> => {
    for (let index = next++; index < count; index = next++) {
      rooms[index] = await createRoom(topology.node(index).server, `cr${index}`)
    }
  }
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, lane))
  return rooms
}

/**
 * Rooms × 5 clients, every client writing and receiving the other four's updates, clients spread
 * round-robin over the nodes (client c of room r on node (5r + c) mod N, so with 3 nodes every room
 * is loaded on every node). The total rate steps up until a step is not steady: p99 delivery at or
 * over the bound, not everything delivered within the drain time, the generators short of the rate,
 * or anything dropped (a client closed, an input rejected, a cluster message not published).
 */
export async function measureClusterRamp(
  topology: RunningTopology,
  pool: WorkerPool,
  settings: ClusterProfile['ramp'],
  log: (message: string) => void,
): Promise<RampResult> {
  const rooms = await createRooms(topology, settings.rooms)
  const byWorker = Array.from({ length: pool.size }, (_, worker) => ({ worker, specs: [] as ClientSpec[] }))
  rooms.forEach((room, r) => {
    // A room's clients share a generator process, as in the single-server throughput scenario.
    const slot = byWorker[r % pool.size]
    for (let c = 0; c < settings.clientsPerRoom; c++) {
      const node = topology.node(topology.topology.spread === 'rooms' ? r : r * settings.clientsPerRoom + c)
      slot?.specs.push(clientSpec(node.server, room, { id: `${room.key}-c${c}`, isWriter: true }))
    }
  })
  const joinStartedAt = performance.now()
  const joinWindow = await startWindow(topology, pool)
  await openClients(pool, byWorker, 120_000)
  const joinMs = performance.now() - joinStartedAt
  await topology.settle()
  const join = await finish(joinWindow)
  const idleWindow = await startWindow(topology, pool)
  await sleep(settings.idleMs)
  const idle = await finish(idleWindow)
  const totalWriters = byWorker.reduce((sum, slot) => sum + slot.specs.length, 0)

  const step = async (rate: number): Promise<StepResult> => {
    await pool.all({ op: 'acks' })
    const window = await startWindow(topology, pool)
    const written = await Promise.all(
      byWorker.map((slot) =>
        pool.call(slot.worker, {
          op: 'write',
          writers: slot.specs.map((s) => s.id),
          rate: (rate * slot.specs.length) / totalWriters,
          durationMs: settings.stepMs,
        }),
      ),
    )
    const sent: SentTimes[] = written.flatMap((w) => [...w.sentTimes])
    const expected = sent.map((s) => ({
      room: s.room,
      clientId: s.clientId,
      clock: s.fromClock + s.times.length,
    }))
    const measured = await window.sample()
    const waits = await pool.all({ op: 'await', expected, timeoutMs: settings.drainMs })
    // For the cost of an update, the window runs on until all of this step's work is done: every
    // update delivered everywhere and committed where it was accepted. Late is not steady, but the
    // CPU it took still counts once, in this step.
    if (!waits.every((w) => w.ok)) await pool.all({ op: 'await', expected, timeoutMs: ACCOUNTING_MS })
    const isCommitted = await window.whenCommitted(ACCOUNTING_MS)
    const complete = await finish(window)
    const answers = await pool.all({ op: 'latencies', sent })
    const latency = summarize(concatFloat64(answers.map((a) => a.latencies)))
    const acks = concatFloat64(await pool.all({ op: 'acks' })).sort()
    const failures = (await pool.all({ op: 'failures' })).flat()
    const totalSent = written.reduce((sum, w) => sum + w.sent, 0)
    const achievedRate = (totalSent * 1000) / Math.max(1, ...written.map((w) => w.actualMs + 1000 / rate))
    const isDrained = waits.every((w) => w.ok) && answers.every((a) => a.missing === 0)
    const isKeptRate = achievedRate >= rate * 0.95
    const reasons: string[] = []
    if (!isDrained) reasons.push(`not delivered within ${settings.drainMs} ms`)
    if (!isKeptRate) reasons.push(`generators reached ${achievedRate.toFixed(0)}/s`)
    if (latency.p99Ms >= settings.p99LimitMs) reasons.push(`p99 ${latency.p99Ms.toFixed(0)} ms`)
    if (failures.length > 0) reasons.push(`${failures.length} client(s) failed: ${failures[0] ?? ''}`)
    const dropped = total(measured, 'dropped') + total(measured, 'rejections')
    if (dropped > 0) reasons.push(`${dropped} message(s) dropped or rejected`)
    // A failed commit is retried, not lost, but under load it says the store refused (deadlock, timeout).
    const persistFailures = total(measured, 'persistFailures')
    if (!isCommitted) reasons.push(`not committed within ${ACCOUNTING_MS / 1000} s more`)
    if (persistFailures > 0) reasons.push(`${persistFailures} commit(s) failed and were retried`)
    const catchUps = total(measured, 'catchUps')
    log(
      `    ${rate}/s: p50 ${latency.p50Ms.toFixed(1)} ms, p99 ${latency.p99Ms.toFixed(1)} ms, nodes ` +
        `${measured.cpu.nodeMs.map((ms) => ((100 * ms) / measured.cpu.elapsedMs).toFixed(0)).join('/')}% CPU, ` +
        `loop p99 ${measured.eventLoop.map((l) => l.p99Ms.toFixed(0)).join('/')} ms, ` +
        `commit ${((complete.nodes.reduce((sum, n) => sum + n.batchSeconds, 0) * 1000) / Math.max(1, total(complete, 'batches'))).toFixed(0)} ms, ` +
        `machine ${measured.cpu.machinePct.toFixed(0)}%${catchUps > 0 ? `, ${catchUps} catch-ups` : ''}` +
        (reasons.length > 0 ? ` — ${reasons.join(', ')}` : ''),
    )
    return {
      rate,
      achievedRate,
      latency: { samples: latency.samples, p50Ms: latency.p50Ms, p99Ms: latency.p99Ms, maxMs: latency.maxMs },
      ackP99Ms: percentileSorted(acks, 99),
      isDrained,
      isKeptRate,
      isSteady: reasons.length === 0,
      reasons,
      window: measured,
      complete,
    }
  }

  const steps: StepResult[] = []
  let maxSteadyRate = 0
  let stopReason: string | null = null
  let isGeneratorBound = false
  for (const rate of settings.steps) {
    // Past the first unsteady step only the CPU comparison rate still runs (every topology has it).
    if (stopReason !== null && rate > settings.cpuRate) break
    let result = await step(rate)
    // One spike of a shared machine should not end the ramp: a step that kept its rate but missed
    // the bound is run once more, and the second result counts (as the throughput scenario does).
    if (!result.isSteady && result.isKeptRate && stopReason === null) result = await step(rate)
    steps.push(result)
    if (stopReason !== null) continue
    if (!result.isSteady) {
      stopReason = `${rate}/s: ${result.reasons.join(', ')}`
      isGeneratorBound = !result.isKeptRate || result.window.cpu.maxGeneratorPct >= 90
    } else maxSteadyRate = rate
  }
  // However the ramp ended, every update must arrive everywhere, and every node serve every room.
  const clocks = (await pool.all({ op: 'writerClocks' })).flat()
  const drained = await pool.all({ op: 'await', expected: clocks, timeoutMs: 60_000 })
  if (!drained.every((d) => d.ok)) {
    throw new VerificationError(
      `updates never delivered: ${drained
        .flatMap((d) => d.lagging)
        .slice(0, 3)
        .join('; ')}`,
    )
  }
  const roomByKey = new Map(rooms.map((room, index) => [room.key, { room, index }]))
  // Each room's fresh joiner goes to a node other than the one that created it (when there is one).
  await verifyReplicas(pool, topology.node(0).server, (key, expect) => {
    const found = roomByKey.get(key)
    if (!found) return null
    const node = topology.node(found.index + 1)
    return clientSpec(node.server, found.room, { id: `${key}-verify`, replica: 'full', expect })
  })
  await pool.all({ op: 'close' })
  return {
    joinMs,
    join,
    idle,
    steps,
    maxSteadyRate,
    isLowerBound: stopReason === null || isGeneratorBound,
    stopReason,
  }
}
