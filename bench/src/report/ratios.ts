import type { PeerId, RunResults } from '../schema.ts'
import { formatValue } from './svg.ts'
import { COMPARED_PEERS, STORAGE_PEERS, bestOf, largestFanout, metric, peerLabel } from './lookup.ts'

export interface RatioRow {
  readonly what: string
  readonly tandem: string
  readonly bestPeer: string
  readonly vsBest: string
  readonly relay: string
  readonly vsRelay: string
}

/** The closing note's table: Tandem against the best peer and the bare relay on every headline figure. */
export function ratioTable(run: RunResults): RatioRow[] {
  const fan = largestFanout(run)
  const memoryParams = run.scenarios.find((s) => s.id === 'memory')?.params as
    { connections?: number[] } | undefined
  const connections = Math.max(...(memoryParams?.connections ?? []))
  const lines: Array<{
    what: string
    scenario: Parameters<typeof metric>[1]
    key: string
    name: string
    isLowerBetter: boolean
    unit: string
    peers: readonly PeerId[]
  }> = [
    ...(fan
      ? [
          {
            what: `fan-out p99, ${fan.readers} × ${fan.rate}/s`,
            scenario: 'fanout' as const,
            key: fan.key,
            name: 'p99Ms',
            isLowerBetter: true,
            unit: 'ms',
            peers: COMPARED_PEERS,
          },
        ]
      : []),
    {
      what: 'max steady rate',
      scenario: 'throughput',
      key: 'ramp',
      name: 'maxSteadyRate',
      isLowerBetter: false,
      unit: '/s',
      peers: COMPARED_PEERS,
    },
    {
      what: 'server CPU @2,000/s',
      scenario: 'throughput',
      key: 'ramp',
      name: 'serverCpuPct',
      isLowerBetter: true,
      unit: '%',
      peers: COMPARED_PEERS,
    },
    ...(Number.isFinite(connections)
      ? [
          {
            what: `RSS/conn @${connections}`,
            scenario: 'memory' as const,
            key: `connections=${connections}`,
            name: 'rssPerConnectionKiB',
            isLowerBetter: true,
            unit: 'KiB',
            peers: COMPARED_PEERS,
          },
          {
            what: `heap/conn @${connections}`,
            scenario: 'memory' as const,
            key: `connections=${connections}`,
            name: 'heapPerConnectionKiB',
            isLowerBetter: true,
            unit: 'KiB',
            peers: COMPARED_PEERS,
          },
        ]
      : []),
    {
      what: 'warm join',
      scenario: 'join',
      key: 'warm',
      name: 'contentMs',
      isLowerBetter: true,
      unit: 'ms',
      peers: COMPARED_PEERS,
    },
    {
      what: 'cold join',
      scenario: 'join',
      key: 'cold',
      name: 'contentMs',
      isLowerBetter: true,
      unit: 'ms',
      peers: STORAGE_PEERS,
    },
    {
      what: 'trace replay',
      scenario: 'trace',
      key: 'replay',
      name: 'opsPerSecond',
      isLowerBetter: false,
      unit: 'ops/s',
      peers: COMPARED_PEERS,
    },
  ]
  return lines.map((line) => {
    const tandem = metric(run, line.scenario, 'tandem', line.key, line.name)
    const top = bestOf(run, line.peers, line.scenario, line.key, line.name, line.isLowerBetter)
    const relay = metric(run, line.scenario, 'relay', line.key, line.name)
    const ratio = (other: number): string =>
      Number.isFinite(tandem / other) ? `${(tandem / other).toFixed(2)}×` : '–'
    return {
      what: line.what,
      tandem: `${formatValue(tandem)} ${line.unit}`,
      bestPeer: top ? `${formatValue(top.value)} ${line.unit} (${peerLabel(run, top.peer)})` : '–',
      vsBest: top ? ratio(top.value) : '–',
      relay: Number.isFinite(relay) ? `${formatValue(relay)} ${line.unit}` : '–',
      vsRelay: ratio(relay),
    }
  })
}
