import type { ConnectionState, ProviderStatus, RetryWait, SaveState, TransportName } from '../sync/index.ts'

/**
 * What the status badge says. Pure, so every state's wording is checked by a unit test. The main
 * text says what it means for the person (are my edits safe, can I do something); the transport
 * and the technical reason go to the details (connectionDetails).
 */

const TRANSPORT_LABELS: Record<TransportName, string> = {
  websocket: 'WebSocket',
  sse: 'SSE',
  longpoll: 'Long polling',
  poll: 'Polling',
}

export function transportLabel(transport: TransportName): string {
  return TRANSPORT_LABELS[transport]
}

/** Said where an editor's badge says Saved/Saving…: a view link has nothing to save. */
export const READ_ONLY_LABEL = 'Read only'

/** `isReadOnly`: a view link, which has no changes to keep. */
export function connectionLabel(connection: ConnectionState, isReadOnly = false): string {
  switch (connection.kind) {
    case 'connecting':
      return connection.attempt === 0 ? 'Connecting…' : 'Reconnecting…'
    case 'connected':
      return 'Connected'
    case 'offline':
      return isReadOnly ? 'Offline' : 'Offline — changes kept on this device'
    case 'reconnecting':
      return 'Reconnecting…'
    case 'refused':
      // The refusal banner says why and what to do; the badge only says it is over.
      return 'Not connected'
    case 'destroyed':
      return 'Closed'
  }
}

/** The wait before the next attempt, when there is one: what "Retry now" cuts short. */
export function retryWaitOf(connection: ConnectionState): RetryWait | null {
  return connection.kind === 'offline' || connection.kind === 'reconnecting' ? connection : null
}

/** The countdown beside "Reconnecting…" (offline waits on the network, not on a clock). */
export function countdownLabel(connection: ConnectionState, secondsLeft: number): string | null {
  return connection.kind === 'reconnecting' && secondsLeft > 0 ? `in ${secondsLeft}s` : null
}

export interface DetailLine {
  readonly label: string
  readonly value: string
}

/** The technical side, for the badge's details and its tooltip: transport, reason, next attempt. */
export function connectionDetails(status: ProviderStatus, secondsLeft: number): DetailLine[] {
  const lines: DetailLine[] = [{ label: 'Transport', value: transportLabel(status.transport) }]
  const { connection } = status
  switch (connection.kind) {
    case 'connecting':
      lines.push({ label: 'State', value: `connecting (attempt ${connection.attempt + 1})` })
      break
    case 'connected':
      lines.push({ label: 'State', value: status.isSynced ? 'connected, in sync' : 'connected, syncing' })
      break
    case 'offline':
    case 'reconnecting':
      lines.push(
        { label: 'State', value: connection.kind },
        { label: 'Last problem', value: connection.detail },
        { label: 'Next attempt', value: secondsLeft > 0 ? `in ${secondsLeft}s` : 'now' },
      )
      break
    case 'refused':
      lines.push({
        label: 'State',
        value: `refused by the server: ${connection.reason.text} (${connection.reason.code})`,
      })
      break
    case 'destroyed':
      lines.push({ label: 'State', value: 'closed' })
      break
  }
  return lines
}

export interface SaveLabel {
  /** Exactly `Saved`, `Saving…` or `Not saved`: tests and screen readers key on it. */
  readonly short: string
  /** Why, when the short form is not enough. */
  readonly detail: string | null
}

export function saveLabel(save: SaveState): SaveLabel {
  switch (save) {
    case 'saved':
      return { short: 'Saved', detail: null }
    case 'saving':
      return { short: 'Saving…', detail: null }
    case 'failing':
      return { short: 'Not saved', detail: 'server cannot write' }
  }
}

export function secondsUntil(deadlineMs: number, nowMs: number): number {
  return Math.max(0, Math.ceil((deadlineMs - nowMs) / 1000))
}
