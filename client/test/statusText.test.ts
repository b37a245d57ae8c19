import { CLOSE_REASONS } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import {
  announcement,
  connectionDetails,
  retryWaitOf,
  saveLabel,
  secondsUntil,
  statusHeadline,
  statusPhase,
  transportLabel,
  type StatusPhase,
} from '../src/editor/statusText.ts'
import type { SaveState } from '../src/sync/types.ts'
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

function status(connection: ConnectionState, save: SaveState = 'saving'): ProviderStatus {
  return { transport: 'longpoll', connection, isSynced: false, save }
}

const headline = (connection: ConnectionState, save?: SaveState, isReadOnly = false): string =>
  statusHeadline(status(connection, save), isReadOnly).text

describe('status badge text', () => {
  it('names the transport', () => {
    expect(transportLabel('websocket')).toBe('WebSocket')
    expect(transportLabel('sse')).toBe('SSE')
  })

  it('[R63] says each state in plain words: Saved, Saving…, Offline — changes kept on this device, Reconnecting…', () => {
    const connected: ConnectionState = { kind: 'connected' }
    expect(headline(connected, 'saved')).toBe('Saved')
    expect(headline(connected, 'saving')).toBe('Saving…')
    expect(headline(connected, 'failing')).toBe('Not saved — the server cannot write')
    expect(headline(offline)).toBe('Offline — changes kept on this device')
    expect(headline(reconnecting)).toBe('Reconnecting…')
    expect(headline({ kind: 'connecting', attempt: 0 })).toBe('Connecting…')
    expect(headline({ kind: 'connecting', attempt: 3 })).toBe('Reconnecting…')
    expect(headline({ kind: 'refused', reason: CLOSE_REASONS.invalidDocId })).toBe('Not connected')
    expect(headline({ kind: 'destroyed' })).toBe('Closed')
  })

  it('[R63] a view link has no changes to keep: connected it reads "Read only", offline just "Offline"', () => {
    expect(headline({ kind: 'connected' }, 'saved', true)).toBe('Read only')
    expect(headline({ kind: 'connected' }, 'saving', true)).toBe('Read only')
    expect(headline(offline, 'saved', true)).toBe('Offline')
  })

  it('[R12] offers "Retry now" only while waiting to reconnect', () => {
    expect(retryWaitOf(offline)).toBe(offline)
    expect(retryWaitOf(reconnecting)).toBe(reconnecting)
    expect(retryWaitOf({ kind: 'connected' })).toBeNull()
    expect(retryWaitOf({ kind: 'connecting', attempt: 1 })).toBeNull()
    expect(retryWaitOf({ kind: 'refused', reason: CLOSE_REASONS.docNotFound })).toBeNull()
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
    expect(headline(reconnecting)).not.toMatch(/1012|polling/i)
  })

  it('keeps the short save text exact, with the reason apart (SPEC R7, R8)', () => {
    expect(saveLabel('saved')).toBe('Saved')
    expect(saveLabel('saving')).toBe('Saving…')
    expect(saveLabel('failing')).toBe('Not saved')
  })

  it('rounds the countdown up and never below zero', () => {
    expect(secondsUntil(10_001, 9_000)).toBe(2)
    expect(secondsUntil(10_000, 9_000)).toBe(1)
    expect(secondsUntil(9_000, 10_000)).toBe(0)
  })

  it('[R63] tells screen readers only what matters: offline, back online, read only, not saving', () => {
    const connected = (save: SaveState): StatusPhase => statusPhase(status({ kind: 'connected' }, save))
    expect(connected('saved')).toBe('online')
    expect(connected('saving')).toBe('online')
    expect(statusPhase(status(reconnecting))).toBe('offline')
    expect(statusPhase(status({ kind: 'connecting', attempt: 2 }))).toBe('offline')
    expect(statusPhase(status({ kind: 'connected' }), true)).toBe('readOnly')

    // Saving…/Saved flips stay within one phase: nothing is said.
    expect(announcement('online', connected('saving'))).toBeNull()
    expect(announcement('starting', 'online')).toBeNull()
    expect(announcement('online', 'offline')).toBe('Offline — changes kept on this device')
    expect(announcement('offline', 'offline')).toBeNull()
    expect(announcement('offline', 'online')).toBe('Back online')
    expect(announcement('starting', 'readOnly', true)).toBe('Read only')
    expect(announcement('readOnly', 'offline', true)).toBe('Offline')
    expect(announcement('offline', 'readOnly', true)).toBe('Back online — read only')
    expect(announcement('online', 'failing')).toBe('Not saved — the server cannot write')
    expect(announcement('failing', 'online')).toBe('Saved')
    expect(announcement('online', 'over')).toBeNull()
  })
})
