import { CLOSE_REASONS } from '@tandem/shared'
import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { StatusBadge } from '../src/editor/StatusBadge.tsx'
import type { ConnectionState, ProviderStatus } from '../src/sync/types.ts'

/** The badge as HTML, without a DOM: what a person and the e2e locators see. */
function badge(connection: ConnectionState, isReadOnly = false): string {
  const status: ProviderStatus = { transport: 'longpoll', connection, isSynced: false, save: 'saving' }
  return renderToStaticMarkup(createElement(StatusBadge, { status, isReadOnly }))
}

const wait = {
  retryInMs: 5_000,
  retryAtMs: Date.now() + 5_000,
  reason: CLOSE_REASONS.serverShutdown,
  detail: 'closed by the server: server restarting (1012)',
  retryNow: () => undefined,
}

describe('status badge', () => {
  it('[R12] shows "Retry now" while offline or reconnecting, and only then', () => {
    expect(badge({ kind: 'offline', ...wait })).toContain('data-testid="retry-now"')
    expect(badge({ kind: 'reconnecting', ...wait })).toContain('>Retry now</button>')
    expect(badge({ kind: 'connected' })).not.toContain('retry-now')
    expect(badge({ kind: 'connecting', attempt: 2 })).not.toContain('retry-now')
    expect(badge({ kind: 'refused', reason: CLOSE_REASONS.docNotFound })).not.toContain('retry-now')
  })

  it('[R12] says what offline means for the edits, keeps the exact save text, and a countdown while reconnecting', () => {
    const offline = badge({ kind: 'offline', ...wait })
    expect(offline).toContain('data-state="offline">Offline — changes kept on this device</span>')
    expect(offline).toContain('data-testid="save-state">Saving…</span>')
    expect(badge({ kind: 'reconnecting', ...wait })).toMatch(/data-testid="retry-countdown"[^>]*>in [1-5]s</)
  })

  it('keeps the transport and the technical reason out of the main text, in the details and tooltip', () => {
    const html = badge({ kind: 'reconnecting', ...wait })
    expect(html).toContain('data-testid="transport">Long polling</dd>')
    expect(html).toContain('popover="auto"')
    expect(html).toMatch(
      /title="Transport: Long polling\nState: reconnecting\nLast problem: closed by the server/,
    )
    expect(html).toContain('data-state="reconnecting">Reconnecting…</span>')
  })

  it('a view link reads "Read only" and, offline, just "Offline"', () => {
    const html = badge({ kind: 'offline', ...wait }, true)
    expect(html).toContain('data-testid="read-only">Read only</span>')
    expect(html).toContain('data-state="offline">Offline</span>')
    expect(html).not.toContain('save-state')
  })
})
