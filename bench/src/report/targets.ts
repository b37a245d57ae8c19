import type { PeerId, RunResults, ScenarioId } from '../schema.ts'
import { formatValue } from './svg.ts'
import { COMPARED_PEERS, IN_MEMORY_PEERS, bestOf, findCase, isLimited, peerLabel } from './lookup.ts'

export type TargetStatus = 'met' | 'missed' | 'n/a'

export interface TargetRow {
  readonly target: string
  readonly tandem: string
  readonly reference: string
  readonly measured: string
  readonly goal: string
  readonly status: TargetStatus
  readonly caveat: string
}

/** A figure of one case: its median and the min–max over the successful repetitions. */
interface Figure {
  readonly name: string
  readonly value: number
  readonly min: number
  readonly max: number
}

function figure(
  run: RunResults,
  scenario: ScenarioId,
  peer: PeerId,
  key: string,
  name: string,
  label = peerLabel(run, peer),
): Figure | null {
  const found = findCase(run, scenario, peer, key)
  const value = found?.median?.[name]
  if (!found || value === undefined || !Number.isFinite(value)) return null
  const values = found.reps.filter((r) => r.ok).map((r) => r.metrics[name] ?? NaN)
  const finite = values.filter(Number.isFinite)
  return { name: label, value, min: Math.min(...finite), max: Math.max(...finite) }
}

interface RatioTarget {
  readonly target: string
  readonly tandem: Figure | null
  readonly reference: Figure | null
  readonly unit: string
  readonly digits?: number
  /** Pass when ratio ≤ limit (or ≥ when isAtLeast). */
  readonly limit: number
  readonly isAtLeast?: boolean
  readonly caveat?: string
}

function shown(f: Figure, unit: string, digits?: number): string {
  const spread = f.max > f.min ? ` (${formatValue(f.min, digits)}–${formatValue(f.max, digits)})` : ''
  return `${formatValue(f.value, digits)}${spread} ${unit}`
}

function ratioRow(t: RatioTarget): TargetRow {
  const { tandem, reference } = t
  // A non-positive figure is measurement noise (RSS returned to the OS meanwhile), not a result.
  const isNoise = (tandem !== null && tandem.value <= 0) || (reference !== null && reference.value <= 0)
  const ratio = tandem && reference && !isNoise ? tandem.value / reference.value : NaN
  const status: TargetStatus = !Number.isFinite(ratio)
    ? 'n/a'
    : (t.isAtLeast ? ratio >= t.limit : ratio <= t.limit)
      ? 'met'
      : 'missed'
  return {
    target: t.target,
    tandem: tandem ? shown(tandem, t.unit, t.digits) : '–',
    reference: reference ? `${shown(reference, t.unit, t.digits)}, ${reference.name}` : '–',
    measured: Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '–',
    goal: `${t.isAtLeast ? '≥' : '≤'} ${t.limit}×`,
    status,
    caveat: [t.caveat, isNoise ? 'a non-positive figure: measurement noise' : ''].filter(Boolean).join('; '),
  }
}

/** The best of `peers` for a metric, with its spread; null when none has a value. */
function best(
  run: RunResults,
  peers: readonly PeerId[],
  scenario: ScenarioId,
  key: string,
  name: string,
  isLowerBetter: boolean,
): Figure | null {
  const found = bestOf(run, peers, scenario, key, name, isLowerBetter)
  return found ? figure(run, scenario, found.peer, key, name) : null
}

function limitedNote(run: RunResults, scenario: ScenarioId, key: string): string {
  return isLimited(run, scenario, 'tandem', key) ? 'generator or machine was a limit' : ''
}

/**
 * The performance targets, each measured against its reference in the same run: the
 * median of the repetitions, the min–max over them in parentheses.
 */
export function evaluateTargets(run: RunResults): TargetRow[] {
  const rows: TargetRow[] = []
  const cpu2000 = figure(run, 'throughput', 'tandem', 'ramp', 'serverCpuPct@2000')
  rows.push(
    ratioRow({
      target: 'Server CPU at 2,000 updates/s, 100 rooms × 5, durable',
      tandem: cpu2000,
      reference: best(run, IN_MEMORY_PEERS, 'throughput', 'ramp', 'serverCpuPct@2000', true),
      unit: '%',
      digits: 0,
      limit: 0.8,
      caveat: limitedNote(run, 'throughput', 'ramp'),
    }),
    ratioRow({
      target: 'Server CPU at 1,000 updates/s vs at 2,000/s (cost follows the load)',
      tandem: figure(run, 'throughput', 'tandem', 'ramp', 'serverCpuPct@1000'),
      reference: cpu2000 ? { ...cpu2000, name: 'Tandem at 2,000/s' } : null,
      unit: '%',
      digits: 0,
      limit: 0.6,
    }),
  )
  for (const [readers, rate, limit] of [
    [10, 20, 1],
    [100, 20, 1],
    [500, 200, 0.5],
  ] as const) {
    const key = `n=${readers},rate=${rate}`
    if (!findCase(run, 'fanout', 'tandem', key)) continue
    rows.push(
      ratioRow({
        target: `Fan-out p99, ${readers} readers × ${rate}/s`,
        tandem: figure(run, 'fanout', 'tandem', key, 'p99Ms'),
        reference: best(run, COMPARED_PEERS, 'fanout', key, 'p99Ms', true),
        unit: 'ms',
        digits: 1,
        limit,
        caveat: limitedNote(run, 'fanout', key),
      }),
    )
  }
  rows.push(
    ratioRow({
      target: 'Trace replay ops/s, durable',
      tandem: figure(run, 'trace', 'tandem', 'replay', 'opsPerSecond'),
      reference: figure(run, 'trace', 'yws', 'replay', 'opsPerSecond'),
      unit: 'ops/s',
      digits: 0,
      limit: 1,
      isAtLeast: true,
    }),
  )
  const memoryParams = run.scenarios.find((s) => s.id === 'memory')?.params as
    { connections?: number[] } | undefined
  const connections = Math.max(...(memoryParams?.connections ?? []))
  if (Number.isFinite(connections)) {
    const key = `connections=${connections}`
    const caveat = connections !== 5000 ? `measured at ${connections}, not 5,000` : ''
    for (const [what, name, limit] of [
      ['RSS', 'rssPerConnectionKiB', 1.1],
      ['heap', 'heapPerConnectionKiB', 1.5],
    ] as const) {
      rows.push(
        ratioRow({
          target: `Idle memory per connection (${what}) at ${connections.toLocaleString('en-US')}`,
          tandem: figure(run, 'memory', 'tandem', key, name),
          reference: figure(run, 'memory', 'relay', key, name),
          unit: 'KiB',
          digits: 1,
          limit,
          caveat,
        }),
      )
    }
  }
  const tandemParams = run.scenarios.find((s) => s.id === 'tandem')?.params as
    { sseViewers?: number; rate?: number } | undefined
  if (tandemParams?.sseViewers) {
    const n = tandemParams.sseViewers
    rows.push(
      ratioRow({
        target: `SSE fan-out p99, ${n.toLocaleString('en-US')} viewers × ${tandemParams.rate ?? 20}/s`,
        tandem: figure(run, 'tandem', 'tandem', `transport=sse,n=${n}`, 'p99Ms'),
        reference: figure(run, 'tandem', 'tandem', `transport=ws-view,n=${n}`, 'p99Ms', 'WebSocket viewers'),
        unit: 'ms',
        digits: 1,
        limit: 1.2,
        caveat: n !== 1000 ? `measured with ${n} viewers, not 1,000` : '',
      }),
    )
  }
  return rows
}
