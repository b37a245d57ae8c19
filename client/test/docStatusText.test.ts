import { CLOSE_REASONS } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import { ApiError } from '../src/api.ts'
import { changedAgoText, editorsText, refreshErrorText } from '../src/home/docStatusText.ts'

describe('[R27] home page entry text', () => {
  it('lists who is editing, or nobody', () => {
    expect(editorsText([])).toBe('nobody')
    expect(editorsText(['Alice', 'Bob'])).toBe('Alice, Bob')
  })

  it('says how long ago the last change was, coarser as it ages', () => {
    const now = Date.parse('2025-06-01T12:00:00Z')
    expect(changedAgoText(now - 9_999, now)).toBe('just now')
    expect(changedAgoText(now + 5_000, now)).toBe('just now')
    expect(changedAgoText(now - 42_000, now)).toBe('42 s ago')
    expect(changedAgoText(now - 5 * 60_000 - 59_000, now)).toBe('5 min ago')
    expect(changedAgoText(now - 3 * 3_600_000, now)).toBe('3 h ago')
    expect(changedAgoText(now - 2 * 86_400_000, now)).toBe('2 d ago')
  })

  it('explains a failed refresh; a 403 means the link was reset (SPEC R19)', () => {
    expect(refreshErrorText(new ApiError('x', CLOSE_REASONS.forbidden))).toBe('link was reset')
    expect(refreshErrorText(new ApiError('the server cannot be reached'))).toBe(
      "couldn't refresh: the server cannot be reached",
    )
    expect(refreshErrorText(new ApiError(CLOSE_REASONS.docNotFound.text, CLOSE_REASONS.docNotFound))).toBe(
      "couldn't refresh: document not found",
    )
  })
})
