import type { Transport } from '../load/spec.ts'
import type { PeerProcess } from '../peers/PeerProcess.ts'
import { clientSpec, createRoom, type Room } from '../peers/rooms.ts'
import type { Metrics, RepResult } from '../schema.ts'
import { startCpuWindow } from '../util/proc.ts'
import { summarize } from '../util/stats.ts'
import {
  VerificationError,
  cpuMetrics,
  deliveries,
  achievedRate,
  limitsOf,
  openClients,
  quiesce,
  spread,
  verifyReplicas,
} from './harness.ts'
import type { RunContext } from './types.ts'

export interface FanoutOptions {
  readonly key: string
  readonly readers: number
  readonly rates: readonly number[]
  readonly phaseMs: number
  readonly drainMs: number
  readonly transport: Transport
  /** Tandem: readers hold the view token (viewers), as event-stream readers must. */
  readonly isViewer: boolean
}

/** Updates written before the measured phases, at the first rate, for this long. */
const WARM_UP_MS = 1_000

/**
 * One writer and N readers in one room: the writer appends one character per update at each
 * rate in turn; every reader timestamps each character's arrival on the shared monotonic clock.
 * The writer has a generator process to itself so that hundreds of readers do not delay its
 * changes. Returns one result per rate, after verifying every replica.
 */
export async function measureFanout(
  context: RunContext,
  server: PeerProcess,
  options: FanoutOptions,
): Promise<Map<number, RepResult>> {
  const { pool } = context
  const room = await createRoom(server, options.key)
  const readers = Array.from({ length: options.readers }, (_, i) =>
    clientSpec(server, room, {
      id: `${options.key}-r${i}`,
      transport: options.transport,
      isViewer: options.isViewer,
    }),
  )
  const writer = clientSpec(server, room, { id: `${options.key}-w`, isWriter: true })
  const startedAt = Date.now()
  await openClients(pool, spread(pool, readers, pool.size > 1 ? 1 : 0))
  await openClients(pool, [{ worker: 0, specs: [writer] }])
  const joinedAt = Date.now()
  // Joins cause work (handshakes, presence broadcasts): measure the steady state after it.
  await quiesce(server, 300)
  context.log(
    `    ${options.key}: ${options.readers} ${options.transport} readers joined in ${((joinedAt - startedAt) / 1000).toFixed(1)} s, ` +
      `server settled after ${((Date.now() - joinedAt) / 1000).toFixed(1)} s`,
  )
  // A server's first updates run cold code (its JIT compiles the path, caches fill): with phases
  // of a few dozen updates, that one slow update would be the p99. Every server gets the same
  // warm-up, which is not measured, then settles again.
  const warmRate = options.rates[0] ?? 20
  const warmUp = await pool.call(0, {
    op: 'write',
    writers: [writer.id],
    rate: warmRate,
    durationMs: WARM_UP_MS,
  })
  await deliveries(pool, warmUp.sentTimes, options.drainMs)
  await quiesce(server, 300)
  const measured = new Map<number, { metrics: Metrics; limits: RepResult['limits'] }>()
  for (const rate of options.rates) {
    const cpu = startCpuWindow(server.pid, pool.pids)
    const written = await pool.call(0, {
      op: 'write',
      writers: [writer.id],
      rate,
      durationMs: options.phaseMs,
    })
    const delivered = await deliveries(pool, written.sentTimes, options.drainMs)
    const usage = cpu.stop()
    if (!delivered.isDrained) {
      throw new VerificationError(
        `at ${rate}/s, updates not delivered within ${options.drainMs} ms: ${delivered.lagging.slice(0, 2).join('; ')}`,
      )
    }
    measured.set(rate, {
      metrics: {
        ...summarize(delivered.latencies),
        ...cpuMetrics(usage),
        achievedRate: achievedRate(written),
      },
      limits: limitsOf(usage, [written]),
    })
  }
  await verifyReplicas(pool, server, verifierFor(server, room))
  await pool.all({ op: 'close' })
  const results = new Map<number, RepResult>()
  for (const [rate, { metrics, limits }] of measured) results.set(rate, { ok: true, metrics, limits })
  return results
}

/** A fresh full client that counts as joined only once it holds `expect`. */
export function verifierFor(server: PeerProcess, room: Room) {
  return (roomKey: string, expect: { length: number; sha1: string }) =>
    roomKey === room.key
      ? clientSpec(server, room, { id: `${room.key}-verify`, replica: 'full', expect })
      : null
}
