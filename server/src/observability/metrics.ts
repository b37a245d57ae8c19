import { CLOSE_REASONS, MESSAGE_SYNC, type CloseReason } from '@tandem/shared'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { CatchUpReason } from '../core/ClusterSync.ts'
import { messageYjsUpdate } from 'y-protocols/sync'
import type { BatchReport } from '../core/Persister.ts'
import type { StoreState } from '../persistence/DocStore.ts'
import type { ConnectionInfo, ConnectionObserver } from '../transports/gate.ts'
import type { Send } from '../webhooks/httpSender.ts'

/** Values read at scrape time from the parts main.ts built. */
export interface MetricsSources {
  readonly loadedRooms: () => number
  readonly dirtyRooms: () => number
  readonly sseStreams: () => number
  readonly pollSessions: () => number
  readonly openSockets: () => number
  /** Pending webhook deliveries; null when webhooks are off (a memory store). */
  readonly webhookQueueDepth: () => number | null
  readonly storeState: () => StoreState
}

const STORE_STATES: readonly StoreState[] = ['open', 'failing', 'unavailable', 'closed']

/**
 * Tandem's Prometheus metrics (SPEC R51), in a registry of their own (never prom-client's global
 * one, so two servers in one process, as in tests, never share counters). The core only emits
 * (the gate's ConnectionObserver, Persister's onBatch, Room's callbacks); this class counts.
 */
export class Metrics {
  readonly registry = new Registry()
  readonly #connections: Gauge<'transport' | 'role'>
  readonly #updatesReceived: Counter<'transport'>
  readonly #updatesBroadcast: Counter<'transport'>
  readonly #children = new Map<Counter<'transport'>, Map<string, Counter.Internal>>()
  readonly #rejections: Counter<'reason'>
  readonly #presenceDropped: Counter<'kind'>
  readonly #takeovers: Counter<'kind'>
  readonly #dropped: Counter<'reason'>
  readonly #fallbacks: Counter
  readonly #persistEntries: Histogram
  readonly #persistSeconds: Histogram
  readonly #persistFailures: Counter
  readonly #storeReopens: Counter<'outcome'>
  readonly #clusterCatchUps: Counter<'reason'>
  readonly #clusterDropped: Counter
  readonly #webhookSeconds: Histogram<'outcome'>

  constructor() {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry })
    this.#connections = new Gauge({
      name: 'tandem_connections',
      help: 'Open client connections, by transport (websocket, sse, longpoll) and role (edit, view)',
      labelNames: ['transport', 'role'],
      registers,
    })
    this.#updatesReceived = new Counter({
      name: 'tandem_updates_received_total',
      help: 'Sync update messages received from clients, before validation',
      labelNames: ['transport'],
      registers,
    })
    this.#updatesBroadcast = new Counter({
      name: 'tandem_updates_broadcast_total',
      help: 'Sync update messages sent to clients (one per recipient)',
      labelNames: ['transport'],
      registers,
    })
    this.#rejections = new Counter({
      name: 'tandem_rejections_total',
      help: 'Clients closed for what they sent, by close reason (docs/PROTOCOL.md §4)',
      labelNames: ['reason'],
      registers,
    })
    this.#presenceDropped = new Counter({
      name: 'tandem_presence_dropped_total',
      help: 'Awareness entries dropped for ids another connection holds: echo (stock clients re-send every state) or foreign (spoofing)',
      labelNames: ['kind'],
      registers,
    })
    this.#takeovers = new Counter({
      name: 'tandem_connections_replaced_total',
      help: 'Stale connections replaced: superseded by the same writer, or unresponsive to a liveness check',
      labelNames: ['kind'],
      registers,
    })
    this.#dropped = new Counter({
      name: 'tandem_tcp_connections_dropped_total',
      help: 'TCP connections closed before any request: over MAX_CONNECTIONS (limit) or silent for 10 s (idle)',
      labelNames: ['reason'],
      registers,
    })
    this.#fallbacks = new Counter({
      name: 'tandem_transport_fallbacks_total',
      help: 'Long-poll sessions a client opened because WebSocket or SSE did not work (fallback=1)',
      registers,
    })
    this.#persistEntries = new Histogram({
      name: 'tandem_persist_batch_entries',
      help: 'Updates per group commit',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 1000],
      registers,
    })
    this.#persistSeconds = new Histogram({
      name: 'tandem_persist_batch_seconds',
      help: 'Time to write one group commit to storage',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    })
    this.#persistFailures = new Counter({
      name: 'tandem_persist_failures_total',
      help: 'Group commits that failed and will be retried (SPEC R8)',
      registers,
    })
    this.#clusterCatchUps = new Counter({
      name: 'tandem_cluster_catchups_total',
      help: 'Documents read back from the store because another node’s message may be missing (R65)',
      labelNames: ['reason'],
      registers,
    })
    this.#clusterDropped = new Counter({
      name: 'tandem_cluster_messages_dropped_total',
      help: 'Messages for other nodes not published: Redis unreachable (caught up by sequence, R65)',
      registers,
    })
    this.#storeReopens = new Counter({
      name: 'tandem_store_reopens_total',
      help: 'Reopens of the database after a failed write, by outcome: ok or failed (SPEC R57)',
      labelNames: ['outcome'],
      registers,
    })
    this.#webhookSeconds = new Histogram({
      name: 'tandem_webhook_delivery_seconds',
      help: 'Time of one webhook attempt up to the response headers, by outcome',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    })
  }

  /** Gauges read at scrape time. Called once, after main.ts built the parts they read. */
  watch(sources: MetricsSources): void {
    const registers = [this.registry]
    const gauge = (name: string, help: string, read: () => number | null): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const value = read()
          if (value !== null) this.set(value)
        },
      })
    }
    gauge('tandem_rooms_loaded', 'Documents loaded in memory', sources.loadedRooms)
    gauge('tandem_rooms_dirty', 'Loaded documents with updates not yet durable', sources.dirtyRooms)
    gauge('tandem_sse_streams', 'Open event streams (viewers)', sources.sseStreams)
    gauge('tandem_poll_sessions', 'Open long-poll and short-poll sessions', sources.pollSessions)
    gauge(
      'tandem_tcp_connections',
      'Open TCP connections on the public port (MAX_CONNECTIONS)',
      sources.openSockets,
    )
    gauge('tandem_webhook_queue_depth', 'Webhook deliveries waiting to be sent', sources.webhookQueueDepth)
    new Gauge({
      name: 'tandem_store_state',
      help: 'The store state, 1 for the current one: open, failing (writes refused until reopened), unavailable, closed (SPEC R57)',
      labelNames: ['state'],
      registers,
      collect() {
        const current = sources.storeState()
        for (const state of STORE_STATES) this.set({ state }, state === current ? 1 : 0)
      },
    })
  }

  readonly connectionObserver: ConnectionObserver = {
    opened: (connection, params) => {
      this.#connections.inc(labelsOf(connection))
      if (connection.transport === 'longpoll' && params.isFallback) this.#fallbacks.inc()
    },
    closed: (connection) => this.#connections.dec(labelsOf(connection)),
    received: (connection, frame) => {
      if (isSyncUpdate(frame)) this.#child(this.#updatesReceived, connection.transport).inc()
    },
    sent: (connection, frame) => {
      if (isSyncUpdate(frame)) this.#child(this.#updatesBroadcast, connection.transport).inc()
    },
  }

  /**
   * The counter of one transport, looked up once: `inc({ transport })` hashes its labels on every
   * call, and `sent` runs once per recipient of every broadcast (issue 6).
   */
  #child(counter: Counter<'transport'>, transport: string): Counter.Internal {
    let children = this.#children.get(counter)
    if (!children) this.#children.set(counter, (children = new Map<string, Counter.Internal>()))
    let child = children.get(transport)
    if (!child) children.set(transport, (child = counter.labels(transport)))
    return child
  }

  rejected(reason: CloseReason): void {
    this.#rejections.inc({ reason: reasonName(reason) })
  }

  presenceDropped(kind: 'echo' | 'foreign'): void {
    this.#presenceDropped.inc({ kind })
  }

  connectionDropped(reason: 'limit' | 'idle'): void {
    this.#dropped.inc({ reason })
  }

  connectionReplaced(kind: 'superseded' | 'unresponsive'): void {
    this.#takeovers.inc({ kind })
  }

  clusterCatchUp(reason: CatchUpReason): void {
    this.#clusterCatchUps.inc({ reason })
  }

  clusterMessageDropped(): void {
    this.#clusterDropped.inc()
  }

  storeReopened(outcome: 'ok' | 'failed'): void {
    this.#storeReopens.inc({ outcome })
  }

  persisted(batch: BatchReport): void {
    this.#persistSeconds.observe(batch.durationMs / 1000)
    if (batch.isWritten) this.#persistEntries.observe(batch.entries)
    else this.#persistFailures.inc()
  }

  /** The webhook sender, timed. Aborted attempts (shutdown) are not attempts and are not timed. */
  timedSend(send: Send): Send {
    return async (request, signal) => {
      const startedAt = performance.now()
      const outcome = await send(request, signal)
      if (outcome.kind !== 'aborted') {
        const label = outcome.kind === 'response' ? `${Math.floor(outcome.status / 100)}xx` : outcome.kind
        this.#webhookSeconds.observe({ outcome: label }, (performance.now() - startedAt) / 1000)
      }
      return outcome
    }
  }
}

function labelsOf(connection: ConnectionInfo): { transport: string; role: string } {
  return { transport: connection.transport, role: connection.peer.role }
}

/**
 * A sync update frame (docs/PROTOCOL.md §1) is `varUint 0, varUint 2, …`: both varints are below
 * 128, so each is one byte. Peeking two bytes keeps the count off the decoder's cost.
 */
function isSyncUpdate(frame: Uint8Array): boolean {
  return frame[0] === MESSAGE_SYNC && frame[1] === messageYjsUpdate
}

/** The catalogue's name for a reason (`invalidUpdate`), a bounded label set. */
function reasonName(reason: CloseReason): string {
  for (const [name, entry] of Object.entries(CLOSE_REASONS)) if (entry.code === reason.code) return name
  return String(reason.code)
}
