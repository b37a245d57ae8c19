import type { ConnectionState, SaveState, TransportName } from '../sync/index.ts'

/** What the status badge says. Pure, so every state's wording is checked by a unit test. */

const TRANSPORT_LABELS: Record<TransportName, string> = {
  websocket: 'WebSocket',
  sse: 'SSE',
  longpoll: 'Long polling',
  poll: 'Polling',
}

export function transportLabel(transport: TransportName): string {
  return TRANSPORT_LABELS[transport]
}

/** `secondsLeft` is only read for `offline`: the countdown to the next attempt. */
export function connectionLabel(connection: ConnectionState, secondsLeft: number): string {
  switch (connection.kind) {
    case 'connecting':
      return 'Connecting…'
    case 'connected':
      return 'Connected'
    case 'offline':
      return secondsLeft > 0 ? `Offline — retrying in ${secondsLeft}s` : 'Offline — retrying…'
    case 'refused':
      return `Refused: ${connection.reason.text}`
    case 'destroyed':
      return 'Closed'
  }
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
