import { randomBytes } from 'node:crypto'
import type { DocumentEvent } from '../core/events.ts'
import type { DocMeta } from '../persistence/DocStore.ts'
import type { OpenWindow, UpdateDebouncer } from './debounce.ts'
import type { EndpointTable } from './endpoints.ts'
import type { EndpointUpdate, OutboxStore } from './OutboxStore.ts'
import {
  WEBHOOK_LIMITS,
  type Clock,
  type DeliveryRecord,
  type EndpointRecord,
  type UpdateWindow,
  type WebhookEventType,
  type WebhookLog,
} from './types.ts'

export interface IntakeOptions {
  readonly outbox: OutboxStore
  readonly endpoints: EndpointTable
  readonly debouncer: () => UpdateDebouncer
  readonly getMeta: (docId: string) => Promise<DocMeta | null>
  /** The document's title (R60), '' when untitled; null leaves it out (not loaded, not wired). */
  readonly getTitle?: (docId: string) => Promise<string | null>
  readonly clock: Clock
  readonly log: WebhookLog
  /** Prefix of `contentUrl` in payloads, e.g. `https://tandem.example.com`; '' gives a path. */
  readonly publicUrl: string
  /** Called when deliveries were queued, so the worker looks at the queue. */
  readonly onQueued: () => void
  /**
   * Re-reads the endpoint table from a store other nodes share (R67), before an event that
   * revokes endpoints; absent on a store only this process writes.
   */
  readonly refresh?: () => Promise<void>
}

/**
 * Turns document events into queued deliveries, one per endpoint that wants the event:
 * `document.updated` through the per-document debounce (SPEC R40), the others at once.
 */
export class EventIntake {
  constructor(private readonly options: IntakeOptions) {}

  /** The DocumentEvents listener. Never throws: failures are logged and the data kept. */
  onDocumentEvent(event: DocumentEvent): void {
    switch (event.type) {
      case 'document.persisted':
        return this.#touch(event.docId, event.contributors)
      case 'document.created':
        return this.#emitNow('document.created', event.docId, event.at, {})
      case 'document.deleted': {
        // The document is gone: an update of it still waiting would point at nothing.
        const open = this.options.debouncer().cancel(event.docId)
        if (open) this.#background(this.options.outbox.deleteWindow(toRecord(open)), 'drop update window')
        return this.#emitNow('document.deleted', event.docId, event.at, {})
      }
      case 'links.reset':
        return this.#emitNow('links.reset', event.docId, event.at, {})
    }
  }

  /** A debounce window closed: queue one `document.updated` per endpoint that wants it. */
  async closeWindow(open: OpenWindow): Promise<void> {
    const window = toRecord(open)
    try {
      const endpoints = this.options.endpoints.matching('document.updated', window.docId)
      const meta = endpoints.length > 0 ? await this.options.getMeta(window.docId) : null
      if (!meta) {
        await this.options.outbox.deleteWindow(window)
        return
      }
      const title = await this.#titleOf(window.docId)
      const data = {
        ...(title === null ? {} : { title }),
        version: meta.version,
        storedBytes: meta.storedBytes,
        updatedAt: new Date(meta.updatedAt).toISOString(),
        editors: window.contributors,
        contentUrl: `${this.options.publicUrl}/api/docs/${window.docId}/text`,
      }
      await this.#enqueue('document.updated', window.docId, this.options.clock.now(), data, endpoints, {
        closedWindow: window,
      })
    } catch (error) {
      // Keep the window (STYLE.md 5): it is still on disk, and reopened here it closes again later.
      this.options.log.error({ err: error, docId: window.docId }, 'webhook update not queued; will retry')
      this.options.debouncer().restore(window)
    }
  }

  /** A title that cannot be read leaves the field out rather than holding the event back. */
  async #titleOf(docId: string): Promise<string | null> {
    const { getTitle } = this.options
    if (!getTitle) return null
    try {
      return await getTitle(docId)
    } catch {
      return null
    }
  }

  #touch(docId: string, contributors: readonly string[]): void {
    if (!this.options.endpoints.wantsUpdates(docId)) return
    const names = contributors.map((name) => name.slice(0, WEBHOOK_LIMITS.maxEditorNameChars))
    const { isNewWindow, hasNewContributor, window } = this.options.debouncer().touch(docId, names)
    // Written only when the window opens or gains a name, not per keystroke: enough for a
    // restart to still report the change (R40).
    if (isNewWindow || hasNewContributor)
      this.#background(
        this.options.outbox.saveWindow(toRecord(window), this.options.clock.now()),
        'save update window',
      )
  }

  #emitNow(type: WebhookEventType, docId: string, at: number, data: Record<string, unknown>): void {
    // Endpoints registered with this document's edit token lose it with a links reset or the
    // document's delete (R41, R55); they are told so by this event, their last.
    const reason = revocationReason(type)
    if (reason === null || !this.options.refresh) {
      this.#emitMatching(type, docId, at, data, reason)
      return
    }
    // On a shared store, one registered through another node a moment ago is revoked too (R67).
    const { refresh } = this.options
    this.#background(
      refresh().then(() => this.#emitMatching(type, docId, at, data, reason)),
      `queue ${type}`,
    )
  }

  #emitMatching(
    type: WebhookEventType,
    docId: string,
    at: number,
    data: Record<string, unknown>,
    reason: string | null,
  ): void {
    const endpoints = this.options.endpoints.matching(type, docId)
    const revoked =
      reason === null
        ? []
        : this.options.endpoints
            .all()
            .filter((e) => e.source === 'edit-token' && e.docId === docId && e.status.kind !== 'revoked')
            .map((e): EndpointRecord => ({ ...e, status: { kind: 'revoked', at, reason } }))
    for (const endpoint of revoked) this.options.endpoints.set(endpoint)
    if (endpoints.length === 0 && revoked.length === 0) return
    // Revoked as stored, in the event's transaction: another node may have changed them meanwhile.
    const endpointChanges = revoked.map((endpoint): EndpointUpdate => ({
      endpointId: endpoint.id,
      change: (stored) =>
        stored.status.kind === 'revoked' ? stored : { ...stored, status: endpoint.status },
    }))
    this.#background(this.#enqueue(type, docId, at, data, endpoints, { endpointChanges }), `queue ${type}`)
  }

  async #enqueue(
    type: WebhookEventType,
    docId: string,
    at: number,
    data: Record<string, unknown>,
    endpoints: readonly EndpointRecord[],
    also: { closedWindow?: UpdateWindow; endpointChanges?: readonly EndpointUpdate[] },
  ): Promise<void> {
    const { outbox, clock, log } = this.options
    const table = this.options.endpoints
    const body = JSON.stringify({ type, timestamp: new Date(at).toISOString(), data: { docId, ...data } })
    const now = clock.now()
    const deliveries: DeliveryRecord[] = []
    for (const endpoint of endpoints) {
      if (table.pending(endpoint.id) >= WEBHOOK_LIMITS.maxPendingPerEndpoint) {
        log.warn({ endpoint: endpoint.id, type, docId }, 'webhook queue full; event not queued')
        continue
      }
      deliveries.push({
        id: newDeliveryId(now),
        endpointId: endpoint.id,
        type,
        docId,
        body,
        createdAt: now,
        attempts: 0,
        lastAttempt: null,
        state: { kind: 'pending', nextAttemptAt: now, failures: 0 },
      })
    }
    if ((await outbox.enqueue(deliveries, also)) === 'window-taken') {
      // This node stalled past its hold on the window, and the node that adopted it reports it.
      log.warn({ docId, type }, 'webhook update window taken over by another node; not queued here')
      return
    }
    for (const delivery of deliveries) {
      table.addPending(delivery.endpointId, 1)
      table.addLogged(delivery.endpointId, 1)
      if (table.logged(delivery.endpointId) > WEBHOOK_LIMITS.maxLoggedPerEndpoint * 1.1)
        this.#background(this.#prune(delivery.endpointId), 'prune delivery log')
    }
    if (deliveries.length > 0) this.options.onQueued()
  }

  async #prune(endpointId: string): Promise<void> {
    const left = await this.options.outbox.prune(endpointId, WEBHOOK_LIMITS.maxLoggedPerEndpoint)
    this.options.endpoints.setLogged(endpointId, left)
  }

  #background(work: Promise<void>, what: string): void {
    work.catch((error: unknown) => this.options.log.error({ err: error }, `webhooks: ${what} failed`))
  }
}

/** Why an event ends the edit token that endpoints of its document were registered with, if it does. */
function revocationReason(type: WebhookEventType): string | null {
  switch (type) {
    case 'links.reset':
      return 'the document’s links were reset'
    case 'document.deleted':
      return 'the document was deleted'
    case 'document.created':
    case 'document.updated':
      return null
  }
}

function toRecord(window: OpenWindow): UpdateWindow {
  return {
    docId: window.docId,
    windowId: window.windowId,
    firstAt: window.firstAt,
    contributors: [...window.contributors].slice(0, WEBHOOK_LIMITS.maxEditorNames),
  }
}

/** `msg_` + creation time (sorts the log) + 80 random bits. Also the `webhook-id` header. */
function newDeliveryId(now: number): string {
  return `msg_${now.toString(16).padStart(12, '0')}${randomBytes(10).toString('hex')}`
}
