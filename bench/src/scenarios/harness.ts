import type { WorkerPool } from '../load/pool.ts'
import type { ClientSpec, SentTimes } from '../load/spec.ts'
import type { WriteAnswer } from '../load/rpc.ts'
import type { Digest } from '../load/replica.ts'
import { PeerProcess } from '../peers/PeerProcess.ts'
import type { CaseResult, Limits, Metrics, PeerId, RepResult } from '../schema.ts'
import { sleep } from '../util/clock.ts'
import type { CpuUsage } from '../util/proc.ts'
import { concatFloat64, median } from '../util/stats.ts'
import type { RunContext } from './types.ts'

/** A run that lost, corrupted or could not deliver an update: a failure, never a data point. */
export class VerificationError extends Error {
  override readonly name = 'VerificationError'
}

export interface CaseKey {
  readonly key: string
  readonly config: Readonly<Record<string, number | string>>
}

/** What one repetition of one peer produced, per case key. */
export type RepOutcome = Map<string, RepResult>

/**
 * Runs `once` for every repetition and peer, repetitions outermost so that noise on the machine is
 * spread over every peer rather than landing on one. A run that throws fails every case it had not
 * recorded yet, with the error as the reason.
 */
export async function repeat(
  context: RunContext,
  peers: readonly PeerId[],
  cases: (peer: PeerId) => readonly CaseKey[],
  once: (peer: PeerId, record: (key: string, result: RepResult) => void) => Promise<void>,
): Promise<CaseResult[]> {
  const byCase = new Map<string, { peer: PeerId; key: CaseKey; reps: RepResult[] }>()
  for (const peer of peers) {
    for (const key of cases(peer)) byCase.set(`${peer}|${key.key}`, { peer, key, reps: [] })
  }
  for (let rep = 1; rep <= context.profile.repetitions; rep++) {
    for (const peer of peers) {
      context.log(`  ${peer} (repetition ${rep}/${context.profile.repetitions})`)
      const recorded = new Set<string>()
      const record = (key: string, result: RepResult): void => {
        const entry = byCase.get(`${peer}|${key}`)
        if (!entry) throw new Error(`unknown case ${key}`)
        entry.reps.push(result)
        recorded.add(key)
        if (!result.ok) context.log(`    ${key}: FAILED ${result.error ?? ''}`)
      }
      try {
        await once(peer, record)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        context.log(`    run failed: ${message}`)
        for (const key of cases(peer)) {
          if (!recorded.has(key.key)) record(key.key, failed(message))
        }
      }
      await context.pool.all({ op: 'close' })
    }
  }
  return [...byCase.values()].map(({ peer, key, reps }) => ({
    peer,
    key: key.key,
    config: key.config,
    reps,
    median: medianMetrics(reps),
  }))
}

export function failed(error: string): RepResult {
  return { ok: false, error, metrics: {}, limits: { generator: false, machine: false, notes: [] } }
}

function medianMetrics(reps: readonly RepResult[]): Metrics | null {
  const ok = reps.filter((rep) => rep.ok)
  if (ok.length === 0) return null
  const names = new Set(ok.flatMap((rep) => Object.keys(rep.metrics)))
  const out: Record<string, number> = {}
  for (const name of names) out[name] = median(ok.map((rep) => rep.metrics[name] ?? NaN))
  return out
}

/** Starts a fresh peer for one run and always stops it (deleting its data). */
export async function withPeer<T>(
  context: RunContext,
  peer: PeerId,
  run: (server: PeerProcess) => Promise<T>,
  env: Record<string, string> = {},
): Promise<T> {
  const server = await PeerProcess.start(peer, {
    env: { ...context.peerEnv, ...env },
    nodeArgs: context.peerNodeArgs(peer),
  })
  try {
    return await run(server)
  } catch (error) {
    if (error instanceof Error && server.output.trim()) error.message += `\nserver output:\n${server.output}`
    throw error
  } finally {
    await server.stop()
  }
}

const SATURATED_PCT = 90

/** Says when a measurement was bounded by the generator or the machine rather than the server. */
export function limitsOf(cpu: CpuUsage, writes: readonly WriteAnswer[] = []): Limits {
  const notes: string[] = []
  const isBehind = writes.some((w) => w.actualMs > w.plannedMs * 1.1 + 50)
  const lateP99 = Math.max(0, ...writes.map((w) => w.lateP99Ms))
  if (cpu.maxClientPct >= SATURATED_PCT)
    notes.push(`a generator process used ${cpu.maxClientPct.toFixed(0)}% of a core`)
  if (isBehind) notes.push('generators could not keep the requested rate')
  if (lateP99 > 50) notes.push(`changes were made up to ${lateP99.toFixed(0)} ms late (p99)`)
  const isMachine = cpu.machinePct >= SATURATED_PCT
  if (isMachine) {
    notes.push(
      `machine ${cpu.machinePct.toFixed(0)}% busy (other processes: ${cpu.foreignPct.toFixed(0)}% of a core)`,
    )
  }
  return {
    generator: cpu.maxClientPct >= SATURATED_PCT || isBehind || lateP99 > 50,
    machine: isMachine,
    notes,
  }
}

/** Changes per second a write phase achieved (first change at 0, last at actualMs). */
export function achievedRate(written: WriteAnswer): number {
  return written.sent <= 1 ? NaN : ((written.sent - 1) * 1000) / Math.max(1, written.actualMs)
}

export function cpuMetrics(cpu: CpuUsage): Metrics {
  return {
    serverCpuPct: cpu.serverPct,
    clientCpuPct: cpu.clientPct,
    machinePct: cpu.machinePct,
    foreignPct: cpu.foreignPct,
  }
}

/** Opens clients spread over workers as `placement` says; any refusal fails the run. */
export async function openClients(
  pool: WorkerPool,
  placement: ReadonlyArray<{ worker: number; specs: readonly ClientSpec[] }>,
  timeoutMs = 60_000,
): Promise<Array<{ id: string; openMs: number; syncedMs: number; contentMs: number }>> {
  const answers = await Promise.all(
    placement
      .filter((p) => p.specs.length > 0)
      .map((p) => pool.call(p.worker, { op: 'open', clients: p.specs, concurrency: 100, timeoutMs })),
  )
  const failures = answers.flatMap((answer) => answer.failures)
  if (failures.length > 0) {
    throw new VerificationError(
      `${failures.length} client(s) could not join: ${failures.slice(0, 3).join('; ')}`,
    )
  }
  return answers.flatMap((answer) => [...answer.joins])
}

/** Spreads specs round-robin over the workers `from..size-1`. */
export function spread(
  pool: WorkerPool,
  specs: readonly ClientSpec[],
  from = 0,
): Array<{ worker: number; specs: ClientSpec[] }> {
  const span = Math.max(1, pool.size - from)
  const out = Array.from({ length: span }, (_, index) => ({
    worker: from + index,
    specs: [] as ClientSpec[],
  }))
  specs.forEach((spec, index) => out[index % span]?.specs.push(spec))
  return out
}

/** Waits until every client has every change the writers made, then returns each change's latencies. */
export async function deliveries(
  pool: WorkerPool,
  sent: readonly SentTimes[],
  drainMs: number,
): Promise<{ latencies: Float64Array; isDrained: boolean; lagging: readonly string[] }> {
  const expected = sent.map((s) => ({
    room: s.room,
    clientId: s.clientId,
    clock: s.fromClock + s.times.length,
  }))
  const waits = await pool.all({ op: 'await', expected, timeoutMs: drainMs })
  const results = await pool.all({ op: 'latencies', sent })
  const missing = results.reduce((sum, r) => sum + r.missing, 0)
  return {
    latencies: concatFloat64(results.map((r) => r.latencies)),
    isDrained: missing === 0 && waits.every((w) => w.ok),
    lagging: waits.flatMap((w) => [...w.lagging]),
  }
}

/**
 * The end of every run: no client was dropped, every replica in every room holds the same text,
 * and (where the server keeps the document) a fresh client joining gets that text too.
 */
export async function verifyReplicas(
  pool: WorkerPool,
  server: PeerProcess,
  specFor: (room: string, expect: Digest) => ClientSpec | null,
): Promise<Map<string, Digest>> {
  const failures = (await pool.all({ op: 'failures' })).flat()
  if (failures.length > 0) {
    throw new VerificationError(
      `${failures.length} client(s) failed during the run: ${failures.slice(0, 3).join('; ')}`,
    )
  }
  const byRoom = new Map<string, Digest>()
  for (const digest of (await pool.all({ op: 'digests' })).flat()) {
    const seen = byRoom.get(digest.room)
    if (!seen) byRoom.set(digest.room, { length: digest.length, sha1: digest.sha1 })
    else if (seen.sha1 !== digest.sha1) {
      throw new VerificationError(
        `replicas differ in room ${digest.room}: ${digest.id} has ${digest.length} chars, another ${seen.length}`,
      )
    }
  }
  if (server.spec.hasServerState) {
    const verifiers = [...byRoom].flatMap(([room, digest]) => {
      const spec = specFor(room, digest)
      return spec ? [spec] : []
    })
    try {
      await openClients(pool, spread(pool, verifiers), 20_000)
    } catch (error) {
      throw new VerificationError(
        `the server's copy differs from the clients': ${error instanceof Error ? error.message : String(error)}`,
      )
    }
    await pool.all({ op: 'close', ids: verifiers.map((v) => v.id) })
  }
  return byRoom
}

/** Waits until the server has used (almost) no CPU for `quietMs`: its queued work, writes included, is done. */
export async function quiesce(server: PeerProcess, quietMs = 500, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = server.cpuMs()
  for (;;) {
    await sleep(quietMs)
    const now = server.cpuMs()
    if (now - last <= quietMs * 0.02) return
    if (Date.now() > deadline) throw new Error(`server still busy after ${timeoutMs} ms`)
    last = now
  }
}
