import type { Transport } from '../load/spec.ts'
import type { ScenarioResult } from '../schema.ts'
import { measureFanout } from './fanoutRun.ts'
import { repeat, withPeer } from './harness.ts'
import { measureRamp } from './throughput.ts'
import type { Scenario } from './types.ts'

interface TransportCase {
  readonly key: string
  readonly transport: Transport
  readonly isViewer: boolean
  readonly readers: number
}

/** (6) Tandem only: its other transports against its own WebSocket, and what fsync costs. */
export const tandemOnly: Scenario = {
  id: 'tandem',
  title: 'Tandem only: long polling, SSE, SYNC_WRITES',
  method:
    'The fan-out of scenario 1 at 20 updates/s with the readers on long polling (edit links, like the WebSocket ' +
    'readers they are compared with) and on Server-Sent Events (view links; compared with WebSocket readers that ' +
    'also hold view links, so both carry viewer presence), each against WebSocket readers in the same server ' +
    'process. Then the throughput ramp of scenario 2 with SYNC_WRITES=1 (fsync per group commit); its ' +
    'SYNC_WRITES=0 counterpart is Tandem’s row in scenario 2.',
  columns: [
    { metric: 'p50Ms', label: 'p50 ms', digits: 1 },
    { metric: 'p95Ms', label: 'p95 ms', digits: 1 },
    { metric: 'p99Ms', label: 'p99 ms', digits: 1 },
    { metric: 'maxMs', label: 'max ms', digits: 0 },
    { metric: 'serverCpuPct', label: 'server CPU %', digits: 0 },
    { metric: 'maxSteadyRate', label: 'max steady updates/s', digits: 0 },
    { metric: 'ackP99Ms', label: 'saved-ack p99 ms @2,000/s', digits: 1 },
  ],
  chart: { metric: 'p99Ms', label: 'p99 delivery latency (ms, log scale)', isLowerBetter: true },
  async run(context): Promise<ScenarioResult> {
    const startedAt = Date.now()
    const { longPollReaders, sseViewers, rate, phaseMs } = context.profile.tandem
    const { drainMs } = context.profile.fanout
    const transports: TransportCase[] = [
      {
        key: `transport=ws,n=${longPollReaders}`,
        transport: 'ws',
        isViewer: false,
        readers: longPollReaders,
      },
      {
        key: `transport=longpoll,n=${longPollReaders}`,
        transport: 'longpoll',
        isViewer: false,
        readers: longPollReaders,
      },
      { key: `transport=ws-view,n=${sseViewers}`, transport: 'ws', isViewer: true, readers: sseViewers },
      { key: `transport=sse,n=${sseViewers}`, transport: 'sse', isViewer: true, readers: sseViewers },
    ]
    const cases = [
      ...transports.map((t) => ({
        key: t.key,
        config: { transport: t.transport, readers: t.readers, rate },
      })),
      { key: 'sync-writes=1', config: { SYNC_WRITES: 1 } },
    ]
    const results = await repeat(
      context,
      context.peers.filter((peer) => peer === 'tandem'),
      () => cases,
      async (peer, record) => {
        await withPeer(context, peer, async (server) => {
          for (const t of transports) {
            const byRate = await measureFanout(context, server, {
              key: t.key.replace(/[=,]/g, '-'),
              readers: t.readers,
              rates: [rate],
              phaseMs,
              drainMs,
              transport: t.transport,
              isViewer: t.isViewer,
            })
            const result = byRate.get(rate)
            if (result) record(t.key, result)
          }
        })
        await withPeer(
          context,
          peer,
          async (server) =>
            record('sync-writes=1', await measureRamp(context, server, context.profile.throughput)),
          { SYNC_WRITES: '1' },
        )
      },
    )
    return {
      id: 'tandem',
      title: tandemOnly.title,
      params: { longPollReaders, sseViewers, rate, phaseMs },
      cases: results,
      notes: [],
      durationS: (Date.now() - startedAt) / 1000,
    }
  },
}
