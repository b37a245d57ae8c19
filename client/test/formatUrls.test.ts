import { describe, expect, it } from 'vitest'
import { keyLabel } from '../src/editor/format/shortcuts.ts'
import { checkImageUrl, checkLinkUrl } from '../src/editor/format/urls.ts'

describe('[R59] what the link and image dialogs accept', () => {
  it.each([
    ['example.com', 'https://example.com'],
    ['  example.com/docs?a=1 ', 'https://example.com/docs?a=1'],
    ['http://example.com', 'http://example.com'],
    ['HTTPS://Example.com/x', 'HTTPS://Example.com/x'],
    ['localhost:3000/page', 'https://localhost:3000/page'],
    ['ada@example.com', 'mailto:ada@example.com'],
    ['mailto:ada@example.com?subject=hi', 'mailto:ada@example.com?subject=hi'],
  ])('[R59] link %j becomes %j', (input, href) => {
    expect(checkLinkUrl(input)).toEqual({ ok: true, href })
  })

  it.each([
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'data:text/html,x',
    'vbscript:x',
    'ftp://x.example',
    'file:///etc/passwd',
    '',
    '   ',
    'mailto:',
    'https://',
  ])('[R59] link %j is refused with a reason', (input) => {
    const checked = checkLinkUrl(input)
    expect(checked.ok).toBe(false)
    if (!checked.ok) expect(checked.error).not.toBe('')
  })

  it('[R59] images come from web addresses only', () => {
    expect(checkImageUrl('example.com/a.png')).toEqual({ ok: true, href: 'https://example.com/a.png' })
    expect(checkImageUrl('http://example.com/a.png')).toEqual({ ok: true, href: 'http://example.com/a.png' })
    for (const input of ['data:image/png;base64,AAAA', 'javascript:alert(1)', 'mailto:a@b.c', 'blob:x', ''])
      expect(checkImageUrl(input).ok).toBe(false)
  })

  it('[R59] shortcuts read as the platform writes them', () => {
    expect(keyLabel('Mod-b', false)).toBe('Ctrl+B')
    expect(keyLabel('Mod-Shift-z', false)).toBe('Ctrl+Shift+Z')
    expect(keyLabel('Mod-Alt-1', true)).toBe('⌘⌥1')
    expect(keyLabel('Mod-\\', false)).toBe('Ctrl+\\')
    expect(keyLabel('Shift-Enter', false)).toBe('Shift+Enter')
  })
})
