import { CLOSE_REASONS } from '@tandem/shared'
import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { StatusBadge } from '../src/editor/StatusBadge.tsx'
import type { ConnectionState, ProviderStatus, SaveState } from '../src/sync/types.ts'

/** The badge as HTML, without a DOM: what a person and the e2e locators see. */
function badge(connection: ConnectionState, isReadOnly = false, save: SaveState = 'saving'): string {
  const status: ProviderStatus = { transport: 'longpoll', connection, isSynced: false, save }
  return renderToStaticMarkup(createElement(StatusBadge, { status, isReadOnly }))
}

/** The badge's headline: the connection-state element's text. */
function headline(html: string): string {
  return /data-testid="connection-state"[^>]*>(?:<span[^>]*>)?([^<]*)</.exec(html)?.[1] ?? ''
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

  it('[R63] the header says one phrase: Saved, Saving…, Offline — changes kept on this device, Reconnecting…', () => {
    expect(headline(badge({ kind: 'connected' }, false, 'saved'))).toBe('Saved')
    expect(headline(badge({ kind: 'connected' }, false, 'saving'))).toBe('Saving…')
    const offline = badge({ kind: 'offline', ...wait })
    expect(headline(offline)).toBe('Offline — changes kept on this device')
    expect(offline).toContain('data-state="offline"')
    // The exact save text stays available to tests (SPEC R7), in the details.
    expect(offline).toContain('data-testid="save-state">Saving…</dd>')
    expect(headline(badge({ kind: 'reconnecting', ...wait }))).toBe('Reconnecting…')
  })

  it('[R63] keeps the transport and the technical reason out of the header, in a details popover behind a button', () => {
    const html = badge({ kind: 'reconnecting', ...wait })
    expect(html).toContain('data-testid="transport">Long polling</dd>')
    expect(html).toContain('closed by the server: server restarting (1012)</dd>')
    expect(html).toContain('popover="auto"')
    expect(html).toMatch(/<button[^>]*aria-expanded="false"[^>]*data-testid="status-details-button"/)
    expect(headline(html)).not.toMatch(/polling|1012/i)
  })

  it('[R63] has one polite live region, empty until something that matters changes', () => {
    const html = badge({ kind: 'connected' }, false, 'saving')
    expect(html.match(/role="status"/g)).toHaveLength(1)
    expect(html).toContain('data-testid="status-announcement"></span>')
    expect(html).not.toContain('aria-live')
  })

  it('[R63] a view link reads "Read only" and, offline, just "Offline"', () => {
    expect(badge({ kind: 'connected' }, true)).toContain('data-testid="read-only">Read only</span>')
    const html = badge({ kind: 'offline', ...wait }, true)
    expect(headline(html)).toBe('Offline')
    expect(html).not.toContain('save-state')
  })
})
