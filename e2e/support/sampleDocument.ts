import { expect } from '@playwright/test'
import type { Actor } from './fixtures.ts'

/**
 * Types a small real document at the end of `actor`'s editor through the editor's Markdown
 * shortcuts (headings, a bullet list, a quote, inline code), like a person would, and waits until
 * it is saved: content for accessibility checks and screenshots (R63).
 */
export async function typeSampleDocument(actor: Actor): Promise<void> {
  const { editor } = actor
  await editor.placeCaretAtEnd()
  await editor.type('# Launch plan\n')
  await editor.type('The team writes the plan together; everyone sees each word as it is typed.\n')
  await editor.type('## Goals\n- Ship the editor\nInvite the first users\nCollect feedback\n\n')
  await editor.type('## Notes\n> Keep it simple, and keep it fast.\n\n')
  await editor.type('`npm test` runs every check.')
  const { content } = editor
  await expect(content.locator('h1')).toHaveText('Launch plan')
  await expect(content.locator('h2')).toHaveText(['Goals', 'Notes'])
  await expect(content.locator('ul > li')).toHaveCount(3)
  await expect(content.locator('blockquote')).toHaveText('Keep it simple, and keep it fast.')
  await expect(content.locator('code')).toHaveText('npm test')
  await editor.waitSaved()
}
