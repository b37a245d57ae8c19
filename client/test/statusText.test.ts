import { CLOSE_REASONS } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import {
  READ_ONLY_LABEL,
  connectionDetails,
  connectionLabel,
  countdownLabel,
  retryWaitOf,
  saveLabel,
  secondsUntil,
  transportLabel,
} from '../src/editor/statusText.ts'
import type { ConnectionState, ProviderStatus, RetryWait } from '../src/sync/types.ts'

const wait: RetryWait = {
  retryInMs: 3_000,
  retryAtMs: 13_000,
  reason: null,
  detail: 'the server cannot be reached: network error',
  retryNow: () => undefined,
}
const offline: ConnectionState = { kind: 'offline', ...wait }
const reconnecting: ConnectionState = {
  kind: 'reconnecting',
  ...wait,
  reason: CLOSE_REASONS.serverShutdown,
  detail: 'closed by the server: server restarting (1012)',
}

function status(connection: ConnectionState): ProviderStatus {
  return { transport: 'longpoll', connection, isSynced: false, save: 'saving' }
}

describe('status badge text', () => {
  it('names the transport', () => {
    expect(transportLabel('websocket')).toBe('WebSocket')
    expect(transportLabel('sse')).toBe('SSE')
  })

  it('describes every connection state in words that say what it means for the edits', () => {
    expect(connectionLabel({ kind: 'connecting', attempt: 0 })).toBe('Connecting…')
    expect(connectionLabel({ kind: 'connecting', attempt: 3 })).toBe('Reconnecting…')
    expect(connectionLabel({ kind: 'connected' })).toBe('Connected')
    expect(connectionLabel(offline)).toBe('Offline — changes kept on this device')
    expect(connectionLabel(reconnecting)).toBe('Reconnecting…')
    expect(connectionLabel({ kind: 'refused', reason: CLOSE_REASONS.invalidDocId })).toBe('Not connected')
    expect(connectionLabel({ kind: 'destroyed' })).toBe('Closed')
  })

  it('a view link has no changes to keep: offline is just offline, and the badge says Read only', () => {
    expect(connectionLabel(offline, true)).toBe('Offline')
    expect(READ_ONLY_LABEL).toBe('Read only')
  })

  it('[R12] offers "Retry now" only while waiting to reconnect, with a countdown while the server fails', () => {
    expect(retryWaitOf(offline)).toBe(offline)
    expect(retryWaitOf(reconnecting)).toBe(reconnecting)
    expect(retryWaitOf({ kind: 'connected' })).toBeNull()
    expect(retryWaitOf({ kind: 'connecting', attempt: 1 })).toBeNull()
    expect(retryWaitOf({ kind: 'refused', reason: CLOSE_REASONS.docNotFound })).toBeNull()
    expect(countdownLabel(reconnecting, 3)).toBe('in 3s')
    expect(countdownLabel(reconnecting, 0)).toBeNull()
    expect(countdownLabel(offline, 3)).toBeNull()
  })

  it('keeps the transport and the technical reason in the details, not the main text', () => {
    expect(connectionDetails(status(reconnecting), 2)).toEqual([
      { label: 'Transport', value: 'Long polling' },
      { label: 'State', value: 'reconnecting' },
      { label: 'Last problem', value: 'closed by the server: server restarting (1012)' },
      { label: 'Next attempt', value: 'in 2s' },
    ])
    expect(
      connectionDetails(status({ kind: 'refused', reason: CLOSE_REASONS.docNotFound }), 0),
    ).toContainEqual({
      label: 'State',
      value: 'refused by the server: document not found (4404)',
    })
    expect(connectionLabel(reconnecting)).not.toMatch(/1012|polling/i)
  })

  it('keeps the short save text exact, with the reason apart (SPEC R7, R8)', () => {
    expect(saveLabel('saved')).toEqual({ short: 'Saved', detail: null })
    expect(saveLabel('saving')).toEqual({ short: 'Saving…', detail: null })
    expect(saveLabel('failing')).toEqual({ short: 'Not saved', detail: 'server cannot write' })
  })

  it('rounds the countdown up and never below zero', () => {
    expect(secondsUntil(10_001, 9_000)).toBe(2)
    expect(secondsUntil(10_000, 9_000)).toBe(1)
    expect(secondsUntil(9_000, 10_000)).toBe(0)
  })
})
