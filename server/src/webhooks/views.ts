import type { DeliveryRecord, EndpointRecord, FailedReason } from './types.ts'

/** An endpoint as the API shows it (docs/PROTOCOL.md §9.2). The secret only on creation (R41). */
export function endpointView(endpoint: EndpointRecord, pendingDeliveries: number): Record<string, unknown> {
  const { status } = endpoint
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    docId: endpoint.docId,
    description: endpoint.description,
    source: endpoint.source,
    createdAt: iso(endpoint.createdAt),
    status: status.kind,
    statusReason: status.kind === 'active' ? null : status.reason,
    statusChangedAt: status.kind === 'active' ? null : iso(status.at),
    consecutiveFailures: endpoint.consecutiveFailures,
    failingSince: endpoint.failingSince === null ? null : iso(endpoint.failingSince),
    pendingDeliveries,
  }
}

/** A delivery as the log shows it (R46); `payload` (the exact body sent) only when asked for one. */
export function deliveryView(delivery: DeliveryRecord, withPayload = false): Record<string, unknown> {
  const { state } = delivery
  return {
    id: delivery.id,
    type: delivery.type,
    docId: delivery.docId,
    createdAt: iso(delivery.createdAt),
    status: state.kind,
    attempts: delivery.attempts,
    lastAttemptAt: delivery.lastAttempt ? iso(delivery.lastAttempt.at) : null,
    lastResult: delivery.lastAttempt?.result ?? null,
    nextAttemptAt: state.kind === 'pending' ? iso(state.nextAttemptAt) : null,
    deliveredAt: state.kind === 'delivered' ? iso(state.at) : null,
    failedAt: state.kind === 'failed' ? iso(state.at) : null,
    failedReason: state.kind === 'failed' ? describeFailure(state.reason) : null,
    ...(withPayload ? { payload: JSON.parse(delivery.body) as unknown } : {}),
  }
}

function describeFailure(reason: FailedReason): string {
  switch (reason.kind) {
    case 'rejected':
      return `rejected by the receiver (HTTP ${reason.status})`
    case 'exhausted':
      return `gave up after ${reason.attempts} attempts`
    case 'address-refused':
      return `target address refused: ${reason.detail}`
    case 'endpoint-disabled':
      return 'endpoint disabled'
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
