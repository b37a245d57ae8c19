import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { ClientSpec } from '../load/spec.ts'
import type { PeerProcess } from '../peers/PeerProcess.ts'
import { clientSpec, createRoom, type Room } from '../peers/rooms.ts'
import type { RepResult, ScenarioResult } from '../schema.ts'
import { VerificationError, openClients, quiesce, repeat, spread, withPeer } from './harness.ts'
import type { RunContext, Scenario } from './types.ts'

const key = (connections: number): string => `connections=${connections}`

/**
 * Idle connections, 10 per room: server RSS (from /proc) and V8 heap after a full GC (asked over
 * IPC, see peers/preload.mjs), minus the same figures with no connection, divided per connection.
 */
async function measureMemory(context: RunContext, server: PeerProcess): Promise<Map<number, RepResult>> {
  const { pool, profile } = context
  const perRoom = profile.memory.clientsPerRoom
  // Warm up the code paths a connection uses, so the baseline holds the code, not the per-connection state.
  const warm = await createRoom(server, 'warm')
  const warmIds = Array.from({ length: perRoom }, (_, i) => clientSpec(server, warm, { id: `warm-${i}` }))
  await openClients(pool, spread(pool, warmIds))
  await pool.all({ op: 'close' })
  await quiesce(server, 300)
  const base = await server.memory()
  const snapshots = context.heapSnapshotDir(server.spec.id)
  if (snapshots) {
    await mkdir(snapshots, { recursive: true })
    await server.heapSnapshot(join(snapshots, `${server.spec.id}-0-${Date.now()}.heapsnapshot`))
  }
  const results = new Map<number, RepResult>()
  const rooms: Room[] = []
  let open = 0
  let previous = { connections: 0, memory: base }
  for (const target of profile.memory.connections) {
    const specs: ClientSpec[] = []
    for (; open < target; open++) {
      const roomIndex = Math.floor(open / perRoom)
      const room = rooms[roomIndex] ?? (rooms[roomIndex] = await createRoom(server, `m${roomIndex}`))
      specs.push(clientSpec(server, room, { id: `m-${open}` }))
    }
    await openClients(pool, spread(pool, specs), 120_000)
    await quiesce(server, 300)
    const now = await server.memory()
    const snapshots = context.heapSnapshotDir(server.spec.id)
    if (snapshots) {
      await mkdir(snapshots, { recursive: true })
      await server.heapSnapshot(join(snapshots, `${server.spec.id}-${target}-${Date.now()}.heapsnapshot`))
    }
    const failures = (await pool.all({ op: 'failures' })).flat()
    if (failures.length > 0)
      throw new VerificationError(`${failures.length} idle connection(s) dropped: ${failures[0]}`)
    context.log(
      `    ${target} connections: RSS +${((now.rssBytes - base.rssBytes) / 2 ** 20).toFixed(1)} MiB, ` +
        `heap +${((now.heapUsedBytes - base.heapUsedBytes) / 2 ** 20).toFixed(1)} MiB`,
    )
    results.set(target, {
      ok: true,
      metrics: {
        rssPerConnectionKiB: (now.rssBytes - base.rssBytes) / 1024 / target,
        heapPerConnectionKiB: (now.heapUsedBytes - base.heapUsedBytes) / 1024 / target,
        // What the connections added since the previous size: immune to a noisy baseline.
        rssMarginalKiB: (now.rssBytes - previous.memory.rssBytes) / 1024 / (target - previous.connections),
        heapMarginalKiB:
          (now.heapUsedBytes - previous.memory.heapUsedBytes) / 1024 / (target - previous.connections),
        rssMiB: now.rssBytes / 2 ** 20,
        heapMiB: now.heapUsedBytes / 2 ** 20,
        baseRssMiB: base.rssBytes / 2 ** 20,
      },
      limits: { generator: false, machine: false, notes: [] },
    })
    previous = { connections: target, memory: now }
  }
  return results
}

/** (3) What an idle connection costs the server. */
export const memory: Scenario = {
  id: 'memory',
  title: 'Idle connection memory',
  method:
    'Connections join rooms of 10 (each completes the sync handshake), then sit idle. Server RSS comes from ' +
    '/proc/<pid>/status, the V8 heap from process.memoryUsage() after two full garbage collections, asked over an ' +
    'IPC channel that a preloaded module (bench/src/peers/preload.mjs) adds to every peer, so heap is measured the ' +
    'same way for all. Per connection = (with N connections − with none, after a warm-up room) / N.',
  columns: [
    { metric: 'rssPerConnectionKiB', label: 'RSS KiB/conn', digits: 1 },
    { metric: 'heapPerConnectionKiB', label: 'heap KiB/conn', digits: 1 },
    { metric: 'rssMarginalKiB', label: 'RSS KiB/conn since previous size', digits: 1 },
    { metric: 'rssMiB', label: 'RSS MiB', digits: 0 },
    { metric: 'heapMiB', label: 'heap MiB', digits: 0 },
  ],
  chart: { metric: 'rssPerConnectionKiB', label: 'RSS per idle connection (KiB)', isLowerBetter: true },
  async run(context): Promise<ScenarioResult> {
    const startedAt = Date.now()
    const { connections, clientsPerRoom } = context.profile.memory
    const results = await repeat(
      context,
      context.peers,
      () => connections.map((n) => ({ key: key(n), config: { connections: n, clientsPerRoom } })),
      (peer, record) =>
        withPeer(context, peer, async (server) => {
          for (const [n, result] of await measureMemory(context, server)) record(key(n), result)
        }),
    )
    return {
      id: 'memory',
      title: memory.title,
      params: { connections, clientsPerRoom },
      cases: results,
      notes: [
        'Both sizes are measured in one server process per repetition: first N₁ connections, then more up to N₂.',
      ],
      durationS: (Date.now() - startedAt) / 1000,
    }
  },
}
