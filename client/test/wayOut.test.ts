import { CLOSE_REASONS } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import { refusalText, wayOutOf } from '../src/editor/wayOut.ts'

describe('wayOutOf', () => {
  it('opens a view link pasted as an edit link read-only', () => {
    expect(
      wayOutOf(CLOSE_REASONS.readOnly, { mode: 'edit', docId: 'abc', token: 'V1', storedToken: null }),
    ).toEqual({ path: '/v/abc?k=V1', label: 'Open it read-only' })
  })

  it('[R19] offers the newer link this browser stored after a reset in another tab', () => {
    const access = { mode: 'view', docId: 'abc', token: 'V1' } as const
    expect(wayOutOf(CLOSE_REASONS.forbidden, { ...access, storedToken: 'V2' })).toEqual({
      path: '/v/abc?k=V2',
      label: 'Open the newer link saved in this browser',
    })
    expect(wayOutOf(CLOSE_REASONS.forbidden, { ...access, storedToken: 'V1' })).toBeNull()
    expect(wayOutOf(CLOSE_REASONS.forbidden, { ...access, storedToken: null })).toBeNull()
  })

  it('[R63] says a refusal in plain words: a reset link asks for a new one', () => {
    expect(refusalText(CLOSE_REASONS.forbidden, 'view')).toBe(
      'The links to this document were reset; ask the owner for a new one.',
    )
    expect(refusalText(CLOSE_REASONS.forbidden, 'edit')).toBe(
      'The links to this document were reset; ask the owner for a new one.',
    )
    expect(refusalText(CLOSE_REASONS.docNotFound, 'edit')).toBe('This document no longer exists.')
    expect(refusalText(CLOSE_REASONS.readOnly, 'edit')).toMatch(/view link/)
    expect(refusalText(CLOSE_REASONS.badOrigin, 'edit')).not.toMatch(/origin|4406/)
  })
})
