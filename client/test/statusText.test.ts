import { CLOSE_REASONS } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import { connectionLabel, saveLabel, secondsUntil, transportLabel } from '../src/editor/statusText.ts'

describe('status badge text', () => {
  it('names the transport', () => {
    expect(transportLabel('websocket')).toBe('WebSocket')
    expect(transportLabel('sse')).toBe('SSE')
  })

  it('describes every connection state', () => {
    expect(connectionLabel({ kind: 'connecting', attempt: 0 }, 0)).toBe('Connecting…')
    expect(connectionLabel({ kind: 'connected' }, 0)).toBe('Connected')
    const offline = { kind: 'offline', retryInMs: 3_000, reason: null } as const
    expect(connectionLabel(offline, 3)).toBe('Offline — retrying in 3s')
    expect(connectionLabel(offline, 0)).toBe('Offline — retrying…')
    expect(connectionLabel({ kind: 'refused', reason: CLOSE_REASONS.invalidDocId }, 0)).toBe(
      'Refused: invalid document id',
    )
    expect(connectionLabel({ kind: 'destroyed' }, 0)).toBe('Closed')
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
