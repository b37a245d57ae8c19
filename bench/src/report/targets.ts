import type { PeerId, RunResults } from '../schema.ts'
import { formatValue } from './svg.ts'
import {
  COMPARED_PEERS,
  IN_MEMORY_PEERS,
  STORAGE_PEERS,
  bestOf,
  isLimited,
  largestFanout,
  metric,
  peerLabel,
} from './lookup.ts'

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

interface RatioTarget {
  readonly target: string
  readonly tandem: number
  readonly reference: { readonly name: string; readonly value: number } | null
  readonly unit: string
  readonly digits?: number
  /** Pass when ratio ≤ limit (or ≥ when isAtLeast). */
  readonly limit: number
  readonly isAtLeast?: boolean
  readonly caveat?: string
}

function ratioRow(t: RatioTarget): TargetRow {
  const reference = t.reference
  // A non-positive figure is measurement noise (RSS returned to the OS meanwhile), not a result.
  const isNoise = t.tandem <= 0 || (reference !== null && reference.value <= 0)
  const ratio = reference && Number.isFinite(t.tandem) && !isNoise ? t.tandem / reference.value : NaN
  const status: TargetStatus = !Number.isFinite(ratio)
    ? 'n/a'
    : (t.isAtLeast ? ratio >= t.limit : ratio <= t.limit)
      ? 'met'
      : 'missed'
  return {
    target: t.target,
    tandem: `${formatValue(t.tandem, t.digits)} ${t.unit}`,
    reference: reference ? `${formatValue(reference.value, t.digits)} ${t.unit} (${reference.name})` : '–',
    measured: Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '–',
    goal: `${t.isAtLeast ? '≥' : '≤'} ${t.limit}×`,
    status,
    caveat: [t.caveat, isNoise ? 'a non-positive figure: measurement noise' : ''].filter(Boolean).join('; '),
  }
}

function best(
  run: RunResults,
  peers: readonly PeerId[],
  ...args: [Parameters<typeof bestOf>[2], string, string, boolean]
) {
  const found = bestOf(run, peers, ...args)
  return found ? { name: peerLabel(run, found.peer), value: found.value } : null
}

function caveats(...parts: Array<string | false>): string {
  return parts.filter(Boolean).join('; ')
}

/** The targets of issue 6, each measured against its reference in the same run. */
export function evaluateTargets(run: RunResults): TargetRow[] {
  const rows: TargetRow[] = []
  const fan = largestFanout(run)
  if (fan) {
    const smaller =
      fan.readers !== 500 || fan.rate !== 200
        ? `measured at N=${fan.readers} × ${fan.rate}/s, not 500 × 200/s`
        : ''
    rows.push(
      ratioRow({
        target: `Fan-out p99, ${fan.readers} readers × ${fan.rate}/s`,
        tandem: metric(run, 'fanout', 'tandem', fan.key, 'p99Ms'),
        reference: best(run, COMPARED_PEERS, 'fanout', fan.key, 'p99Ms', true),
        unit: 'ms',
        limit: 0.5,
        caveat: caveats(
          smaller,
          isLimited(run, 'fanout', 'tandem', fan.key) && 'generator or machine was a limit',
        ),
      }),
    )
  }
  const relayRate = metric(run, 'throughput', 'relay', 'ramp', 'maxSteadyRate')
  const tandemRate = metric(run, 'throughput', 'tandem', 'ramp', 'maxSteadyRate')
  const isLowerBound = (peer: PeerId): boolean =>
    metric(run, 'throughput', peer, 'ramp', 'isLowerBound') === 1
  rows.push(
    ratioRow({
      target: 'Server CPU at 2,000 updates/s (rooms of 5), durable',
      tandem: metric(run, 'throughput', 'tandem', 'ramp', 'serverCpuPct'),
      reference: best(run, IN_MEMORY_PEERS, 'throughput', 'ramp', 'serverCpuPct', true),
      unit: '%',
      digits: 0,
      limit: 0.6,
      caveat: isLimited(run, 'throughput', 'tandem', 'ramp') ? 'generator or machine was a limit' : '',
    }),
    ratioRow({
      target: 'Highest steady rate with p99 < 100 ms',
      tandem: tandemRate,
      reference: Number.isFinite(relayRate) ? { name: peerLabel(run, 'relay'), value: relayRate } : null,
      unit: '/s',
      digits: 0,
      limit: 1,
      isAtLeast: true,
      caveat: caveats(
        isLowerBound('tandem') && 'Tandem’s figure is a lower bound (generators were the limit)',
        isLowerBound('relay') && 'the relay’s figure is a lower bound (generators were the limit)',
      ),
    }),
  )
  const memoryParams = run.scenarios.find((s) => s.id === 'memory')?.params as
    { connections?: number[] } | undefined
  const connections = Math.max(...(memoryParams?.connections ?? []))
  if (Number.isFinite(connections)) {
    const key = `connections=${connections}`
    const relay = metric(run, 'memory', 'relay', key, 'rssPerConnectionKiB')
    rows.push(
      ratioRow({
        target: `Idle memory per connection (RSS) at ${connections.toLocaleString('en-US')}`,
        tandem: metric(run, 'memory', 'tandem', key, 'rssPerConnectionKiB'),
        reference: Number.isFinite(relay) ? { name: peerLabel(run, 'relay'), value: relay } : null,
        unit: 'KiB',
        digits: 1,
        limit: 1.1,
        caveat: connections !== 5000 ? `measured at ${connections}, not 5,000` : '',
      }),
    )
  }
  rows.push(
    ratioRow({
      target: 'Cold first join of the large document',
      tandem: metric(run, 'join', 'tandem', 'cold', 'contentMs'),
      reference: best(run, STORAGE_PEERS, 'join', 'cold', 'contentMs', true),
      unit: 'ms',
      limit: 0.3,
    }),
  )
  const relayWarm = metric(run, 'join', 'relay', 'warm', 'contentMs')
  rows.push(
    ratioRow({
      target: 'Warm join of the large document',
      tandem: metric(run, 'join', 'tandem', 'warm', 'contentMs'),
      reference: Number.isFinite(relayWarm) ? { name: peerLabel(run, 'relay'), value: relayWarm } : null,
      unit: 'ms',
      limit: 1.1,
    }),
  )
  const early = metric(run, 'join', 'tandem', 'cold', 'syncedBeforeContent')
  rows.push({
    target: '"Synced" only once the content is there (cold join)',
    tandem: Number.isFinite(early) ? (early === 0 ? 'content with sync' : 'synced early') : '–',
    reference: '',
    measured: '',
    goal: 'never early',
    status: Number.isFinite(early) ? (early === 0 ? 'met' : 'missed') : 'n/a',
    caveat: '',
  })
  const relayOps = metric(run, 'trace', 'relay', 'replay', 'opsPerSecond')
  rows.push(
    ratioRow({
      target: 'Trace replay ops/s, durable',
      tandem: metric(run, 'trace', 'tandem', 'replay', 'opsPerSecond'),
      reference: Number.isFinite(relayOps) ? { name: peerLabel(run, 'relay'), value: relayOps } : null,
      unit: 'ops/s',
      digits: 0,
      limit: 0.95,
      isAtLeast: true,
    }),
  )
  const tandemParams = run.scenarios.find((s) => s.id === 'tandem')?.params as
    { longPollReaders?: number; sseViewers?: number; rate?: number } | undefined
  if (tandemParams?.longPollReaders) {
    const n = tandemParams.longPollReaders
    const lp = metric(run, 'tandem', 'tandem', `transport=longpoll,n=${n}`, 'p50Ms')
    const ws = metric(run, 'tandem', 'tandem', `transport=ws,n=${n}`, 'p50Ms')
    const extra = lp - ws
    rows.push({
      target: `Long-polling delivery p50 vs WebSocket, ${n} readers × ${tandemParams.rate ?? 20}/s`,
      tandem: `${formatValue(lp)} ms`,
      reference: `${formatValue(ws)} ms (WebSocket)`,
      measured: Number.isFinite(extra) ? `+${formatValue(extra)} ms` : '–',
      goal: '≤ +5 ms',
      status: Number.isFinite(extra) ? (extra <= 5 ? 'met' : 'missed') : 'n/a',
      caveat: '',
    })
  }
  if (tandemParams?.sseViewers) {
    const n = tandemParams.sseViewers
    const sse = metric(run, 'tandem', 'tandem', `transport=sse,n=${n}`, 'p99Ms')
    const ws = metric(run, 'tandem', 'tandem', `transport=ws-view,n=${n}`, 'p99Ms')
    rows.push(
      ratioRow({
        target: `SSE fan-out p99, ${n.toLocaleString('en-US')} viewers × ${tandemParams.rate ?? 20}/s`,
        tandem: sse,
        reference: Number.isFinite(ws) ? { name: 'WebSocket viewers', value: ws } : null,
        unit: 'ms',
        limit: 1.2,
        caveat: n !== 1000 ? `measured with ${n} viewers, not 1,000` : '',
      }),
    )
  }
  return rows
}
