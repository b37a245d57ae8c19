import type { ScenarioResult } from '../schema.ts'
import { withPeer, repeat } from './harness.ts'
import { measureFanout } from './fanoutRun.ts'
import type { Scenario } from './types.ts'

const key = (readers: number, rate: number): string => `n=${readers},rate=${rate}`

/** (1) One writer, N readers in one room, at 20 and 200 small inserts per second. */
export const fanout: Scenario = {
  id: 'fanout',
  title: 'Fan-out: one writer, N readers',
  method:
    'One writer appends one character per update at a steady rate (20/s, then 200/s) to a room of N readers, ' +
    'after one unmeasured second at 20/s that warms every server up (its first updates run cold code). ' +
    'Latency runs from the moment the writer makes the change to the moment each reader has received the ' +
    'update carrying it, both read on the machine-wide monotonic clock (writer and readers are in different ' +
    'processes). Every reader and a fresh joiner must end with the writer’s exact text.',
  columns: [
    { metric: 'p50Ms', label: 'p50 ms', digits: 1 },
    { metric: 'p95Ms', label: 'p95 ms', digits: 1 },
    { metric: 'p99Ms', label: 'p99 ms', digits: 1 },
    { metric: 'maxMs', label: 'max ms', digits: 0 },
    { metric: 'serverCpuPct', label: 'server CPU %', digits: 0 },
    { metric: 'clientCpuPct', label: 'client CPU %', digits: 0 },
  ],
  chart: { metric: 'p99Ms', label: 'p99 delivery latency (ms, log scale)', isLowerBetter: true },
  async run(context): Promise<ScenarioResult> {
    const startedAt = Date.now()
    const { readers, rates, phaseMs, drainMs } = context.profile.fanout
    const cases = readers.flatMap((n) =>
      rates.map((rate) => ({ key: key(n, rate), config: { readers: n, rate } })),
    )
    const results = await repeat(
      context,
      context.peers,
      () => cases,
      (peer, record) =>
        withPeer(context, peer, async (server) => {
          for (const n of readers) {
            const byRate = await measureFanout(context, server, {
              key: `fan${n}`,
              readers: n,
              rates,
              phaseMs,
              drainMs,
              transport: 'ws',
              isViewer: false,
            })
            for (const [rate, result] of byRate) record(key(n, rate), result)
          }
        }),
    )
    return {
      id: 'fanout',
      title: fanout.title,
      params: { readers, rates, phaseMs, drainMs, workers: context.profile.workers },
      cases: results,
      notes: [
        'One server process per peer and repetition serves every N in turn, each in a new room.',
        'Through the bare relay nothing answers a joining reader: readers start empty and receive only the writer’s updates.',
      ],
      durationS: (Date.now() - startedAt) / 1000,
    }
  },
}
