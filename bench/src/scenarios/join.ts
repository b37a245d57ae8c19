import { largeDoc } from '../data/largeDoc.ts'
import type { PeerProcess } from '../peers/PeerProcess.ts'
import { clientSpec, createRoom } from '../peers/rooms.ts'
import type { PeerId, RepResult, ScenarioResult } from '../schema.ts'
import { median } from '../util/stats.ts'
import { PEERS } from '../peers/peers.ts'
import { VerificationError, openClients, quiesce, repeat, withPeer } from './harness.ts'
import type { RunContext, Scenario } from './types.ts'

const OK_LIMITS = { generator: false, machine: false, notes: [] }

/**
 * Builds the large document on the server (one update per edit, sent as fast as the socket takes
 * them), then times joins: a client counts as joined when its text is exactly the document's — not
 * when the server says "synced". Warm: the document is loaded (its builder stays connected). Cold:
 * everyone leaves, the server settles and restarts, and the first client joins from storage.
 */
async function measureJoins(context: RunContext, server: PeerProcess): Promise<Map<string, RepResult>> {
  const { pool, profile } = context
  const doc = await largeDoc(profile.join.edits)
  const room = await createRoom(server, 'large')
  const joiner = (id: string) =>
    clientSpec(server, room, { id, replica: 'full', asksPeers: true, expect: doc.digest })
  // Through the relay the builder is the only holder of the document and answers joiners itself.
  const builder = clientSpec(server, room, { id: 'builder', replica: 'full', isAnchor: true })
  const joinWorker = pool.size > 1 ? 1 : 0
  await openClients(pool, [{ worker: 0, specs: [builder] }])
  await pool.call(0, { op: 'send', clientId: 'builder', file: doc.file, count: doc.edits, applyOwn: true })
  // Untimed: proves the server holds all of it before anything is timed.
  await openClients(pool, [{ worker: joinWorker, specs: [joiner('probe')] }], 180_000)
  await pool.call(joinWorker, { op: 'close', ids: ['probe'] })
  // Background work on what was built (log writes, compaction) would otherwise land on the joins.
  await quiesce(server)
  const warm: Array<{ syncedMs: number; contentMs: number }> = []
  for (let i = 0; i < profile.join.warmJoins; i++) {
    const [timing] = await openClients(pool, [{ worker: joinWorker, specs: [joiner(`warm${i}`)] }], 60_000)
    if (timing) warm.push(timing)
    await pool.call(joinWorker, { op: 'close', ids: [`warm${i}`] })
  }
  const results = new Map<string, RepResult>()
  results.set('warm', {
    ok: true,
    metrics: {
      contentMs: median(warm.map((t) => t.contentMs)),
      syncedMs: median(warm.map((t) => t.syncedMs)),
      maxContentMs: Math.max(...warm.map((t) => t.contentMs)),
      chars: doc.digest.length,
    },
    limits: OK_LIMITS,
  })
  if (!server.spec.hasStorage) return results
  await pool.all({ op: 'close' })
  await quiesce(server)
  await server.restart()
  const [cold] = await openClients(pool, [{ worker: joinWorker, specs: [joiner('cold')] }], 180_000)
  if (!cold) throw new VerificationError('cold join produced no timing')
  const isEarly = cold.syncedMs < cold.contentMs - 1
  results.set('cold', {
    ok: true,
    metrics: {
      contentMs: cold.contentMs,
      syncedMs: cold.syncedMs,
      syncedBeforeContent: isEarly ? 1 : 0,
      chars: doc.digest.length,
    },
    limits: {
      generator: false,
      machine: false,
      notes: isEarly
        ? [
            `said "synced" after ${cold.syncedMs.toFixed(0)} ms, content complete only after ${cold.contentMs.toFixed(0)} ms`,
          ]
        : [],
    },
  })
  return results
}

const casesFor = (peer: PeerId) => [
  { key: 'warm', config: { join: 'warm' } },
  ...(PEERS[peer].hasStorage ? [{ key: 'cold', config: { join: 'cold' } }] : []),
]

/** (4) Joining a large document, loaded and from storage. */
export const join: Scenario = {
  id: 'join',
  title: 'Joining a large document',
  method:
    'A document of ~120k characters is built from 15,000 small edits at scattered positions, each sent as its own ' +
    'update (so stores that log updates hold thousands of entries). A joiner counts as joined when its text is ' +
    'byte-for-byte the document’s, which is also when it is verified; the time from starting to connect is ' +
    'reported. Warm: the document is in memory (its builder stays connected). Cold: every client leaves, the ' +
    'server settles (no CPU for 0.5 s), is stopped with SIGTERM and restarted on the same storage, and the first ' +
    'client joins. "Synced early" marks a server whose sync reply arrived before the content did.',
  columns: [
    { metric: 'contentMs', label: 'joined (content there) ms', digits: 1 },
    { metric: 'syncedMs', label: 'server said synced ms', digits: 1 },
    { metric: 'syncedBeforeContent', label: 'synced early', digits: 0 },
  ],
  chart: {
    metric: 'contentMs',
    label: 'time until the joiner holds the document (ms, log scale)',
    isLowerBetter: true,
  },
  async run(context): Promise<ScenarioResult> {
    const startedAt = Date.now()
    const results = await repeat(context, context.peers, casesFor, (peer, record) =>
      withPeer(context, peer, async (server) => {
        for (const [key, result] of await measureJoins(context, server)) record(key, result)
      }),
    )
    return {
      id: 'join',
      title: join.title,
      params: { ...context.profile.join },
      cases: results,
      notes: ['In-memory peers and the relay have no cold join: a restart loses their documents.'],
      durationS: (Date.now() - startedAt) / 1000,
    }
  },
}
