import type { EndpointTable } from './endpoints.ts'
import type { OutboxStore } from './OutboxStore.ts'
import type { Clock, UpdateWindow, WebhookLog } from './types.ts'

/**
 * How stale this node's endpoint table may get on a shared store (R67): an endpoint created,
 * changed or removed on another node is matched against this node's events within this long.
 * The webhook API re-reads the table before every request, so it never answers from it stale.
 */
export const SHARED_REFRESH_MS = 1_000

export interface SharedSyncOptions {
  readonly outbox: OutboxStore
  readonly endpoints: EndpointTable
  readonly clock: Clock
  readonly log: WebhookLog
  /** A window a dead node held, now this node's to close and report (R40, R67). */
  readonly onAdopted: (window: UpdateWindow) => void
  readonly intervalMs?: number
}

export interface SharedSync {
  /** Re-reads endpoints and pending counts; resolves once a read begun after this call is in. */
  refresh(): Promise<void>
  stop(): Promise<void>
}

type SyncState = { readonly kind: 'running'; cancel: () => void } | { readonly kind: 'stopped' }

/**
 * The loop that keeps this node's view of a store other nodes share (STYLE.md 12): every
 * `SHARED_REFRESH_MS`, the endpoint table and pending counts are read again, this node's hold on
 * its open windows is renewed, and windows whose holder stopped renewing (a node that died) are
 * adopted. A failed round is logged and the next one tries again.
 */
export function startSharedSync(options: SharedSyncOptions): SharedSync {
  const { outbox, endpoints, clock, log } = options
  const intervalMs = options.intervalMs ?? SHARED_REFRESH_MS
  let state: SyncState = { kind: 'running', cancel: () => undefined }
  let current: Promise<void> | null = null
  let queued: Promise<void> | null = null
  let tick: Promise<void> = Promise.resolve()

  const read = async (): Promise<void> => {
    const [records, pending] = await Promise.all([outbox.endpoints(), outbox.countPending()])
    endpoints.replace(records, pending)
  }
  // One read at a time; a caller arriving during one waits for the next, which starts after it
  // arrived, so an API request sees every change committed before it (another node's included).
  const refresh = (): Promise<void> => {
    if (!current) {
      current = read().finally(() => (current = null))
      return current
    }
    queued ??= current
      .catch(() => undefined)
      .then(() => {
        queued = null
        return refresh()
      })
    return queued
  }

  const round = async (): Promise<void> => {
    try {
      await refresh()
      const now = clock.now()
      await outbox.holdWindows(now)
      for (const window of await outbox.adoptWindows(now)) {
        log.info({ docId: window.docId }, 'webhook update window adopted from a node that stopped')
        options.onAdopted(window)
      }
    } catch (error) {
      log.error({ err: error }, 'webhook outbox could not be read; retrying')
    }
  }
  const schedule = (): void => {
    if (state.kind !== 'running') return
    state.cancel = clock.schedule(intervalMs, () => {
      tick = round().finally(schedule)
    })
  }
  schedule()

  return {
    refresh,
    async stop() {
      if (state.kind === 'running') state.cancel()
      state = { kind: 'stopped' }
      await tick
    },
  }
}
