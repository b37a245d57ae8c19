import type { ConnectionState, ProviderStatus, RetryWait, SaveState, TransportName } from '../sync/index.ts'

/**
 * What the status badge says (SPEC R63). Pure, so every state's wording is checked by a unit test.
 * The headline says what the state means for the person, in the words of R63 ("Saved",
 * "Saving…", "Offline — changes kept on this device", "Reconnecting…", "Read only"); the transport
 * and the technical reason go to the details (statusDetails).
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
export const OFFLINE_LABEL = 'Offline — changes kept on this device'

/** How the headline looks: the colour of its dot. */
export type StatusTone = 'ok' | 'busy' | 'warning' | 'danger' | 'neutral'

export interface StatusHeadline {
  readonly text: string
  readonly tone: StatusTone
}

/** `isReadOnly`: a view link (or a receive-only edit link), which has no changes to keep. */
export function statusHeadline(status: ProviderStatus, isReadOnly = false): StatusHeadline {
  const { connection } = status
  switch (connection.kind) {
    case 'connecting':
      return connection.attempt === 0
        ? { text: 'Connecting…', tone: 'busy' }
        : { text: 'Reconnecting…', tone: 'warning' }
    case 'connected':
      return isReadOnly ? { text: READ_ONLY_LABEL, tone: 'neutral' } : saveHeadline(status.save)
    case 'offline':
      return { text: isReadOnly ? 'Offline' : OFFLINE_LABEL, tone: 'warning' }
    case 'reconnecting':
      return { text: 'Reconnecting…', tone: 'warning' }
    case 'refused':
      // The refusal banner says why and what to do; the badge only says it is over.
      return { text: 'Not connected', tone: 'danger' }
    case 'destroyed':
      return { text: 'Closed', tone: 'neutral' }
  }
}

function saveHeadline(save: SaveState): StatusHeadline {
  switch (save) {
    case 'saved':
      return { text: 'Saved', tone: 'ok' }
    case 'saving':
      return { text: 'Saving…', tone: 'busy' }
    case 'failing':
      return { text: 'Not saved — the server cannot write', tone: 'danger' }
  }
}

/** Exactly `Saved`, `Saving…` or `Not saved` (SPEC R7, R8): tests key on it, in the details. */
export function saveLabel(save: SaveState): string {
  switch (save) {
    case 'saved':
      return 'Saved'
    case 'saving':
      return 'Saving…'
    case 'failing':
      return 'Not saved'
  }
}

/** The wait before the next attempt, when there is one: what "Retry now" cuts short. */
export function retryWaitOf(connection: ConnectionState): RetryWait | null {
  return connection.kind === 'offline' || connection.kind === 'reconnecting' ? connection : null
}

export interface DetailLine {
  readonly label: string
  readonly value: string
}

/** The technical side, for the badge's details popover: transport, state, reason, next attempt. */
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

/**
 * What the page is, as far as a screen reader needs to know: the live region speaks only when this
 * changes, never on each Saving/Saved flip (R63). Reconnecting counts as offline: from the chair
 * there is no difference, and a flapping connection must not chatter.
 */
export type StatusPhase = 'starting' | 'online' | 'offline' | 'readOnly' | 'failing' | 'over'

export function statusPhase(status: ProviderStatus, isReadOnly = false): StatusPhase {
  const { connection } = status
  switch (connection.kind) {
    case 'connecting':
      return connection.attempt === 0 ? 'starting' : 'offline'
    case 'offline':
    case 'reconnecting':
      return 'offline'
    case 'connected':
      if (isReadOnly) return 'readOnly'
      return status.save === 'failing' ? 'failing' : 'online'
    case 'refused':
    case 'destroyed':
      // The refusal banner is an alert of its own.
      return 'over'
  }
}

/** What the live region says when the phase goes from `previous` to `next`; null says nothing. */
export function announcement(
  previous: StatusPhase | null,
  next: StatusPhase,
  isReadOnly = false,
): string | null {
  if (previous === next) return null
  switch (next) {
    case 'offline':
      return isReadOnly ? 'Offline' : OFFLINE_LABEL
    case 'online':
      if (previous === 'offline') return 'Back online'
      return previous === 'failing' ? 'Saved' : null
    case 'readOnly':
      return previous === 'offline' ? `Back online — ${READ_ONLY_LABEL.toLowerCase()}` : READ_ONLY_LABEL
    case 'failing':
      return 'Not saved — the server cannot write'
    case 'starting':
    case 'over':
      return null
  }
}

export function secondsUntil(deadlineMs: number, nowMs: number): number {
  return Math.max(0, Math.ceil((deadlineMs - nowMs) / 1000))
}
