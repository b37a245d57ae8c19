import { CLOSE_REASONS } from '@tandem/shared'
import type { ApiError } from '../api.ts'

/** What a home page entry says about its document's live state. Pure, so a unit test checks it. */

/** `Alice, Bob`, or `nobody`. One name per connection: two tabs of Bob's show him twice. */
export function editorsText(names: readonly string[]): string {
  return names.length === 0 ? 'nobody' : names.join(', ')
}

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS
const DAY_MS = 24 * HOUR_MS

/** `just now`, `42 s ago`, `5 min ago`, `3 h ago`, `2 d ago`: when the last edit was stored. */
export function changedAgoText(changedAtMs: number, nowMs: number): string {
  // Clocks differ between server and browser; an edit "in the future" happened just now.
  const ageMs = Math.max(0, nowMs - changedAtMs)
  if (ageMs < 10_000) return 'just now'
  if (ageMs < MINUTE_MS) return `${Math.floor(ageMs / 1000)} s ago`
  if (ageMs < HOUR_MS) return `${Math.floor(ageMs / MINUTE_MS)} min ago`
  if (ageMs < DAY_MS) return `${Math.floor(ageMs / HOUR_MS)} h ago`
  return `${Math.floor(ageMs / DAY_MS)} d ago`
}

/** Why the entry may be out of date. A 403 on a link that used to work means it was reset (R19). */
export function refreshErrorText(error: ApiError): string {
  if (error.reason === CLOSE_REASONS.forbidden) return 'link was reset'
  return `couldn't refresh: ${error.message}`
}
