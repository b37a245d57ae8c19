import type { KeyValueStore } from '../storage.ts'

/**
 * The colour theme (SPEC R63): the system's (`prefers-color-scheme`) unless the person picked one.
 * The choice lives in localStorage under THEME_KEY and shows as `data-theme` on <html>; index.html
 * applies it with an inline script before the first paint, so a dark choice never flashes white.
 * Keep THEME_KEY and the values in step with that script.
 */
export type ThemeChoice = 'system' | 'light' | 'dark'

export const THEME_KEY = 'tandem.theme'
export const THEME_CHOICES: readonly ThemeChoice[] = ['system', 'light', 'dark']

export function readTheme(store: KeyValueStore): ThemeChoice {
  const value = store.getItem(THEME_KEY)
  return value === 'light' || value === 'dark' ? value : 'system'
}

/** Remembers the choice and applies it to the page at once. */
export function saveTheme(store: KeyValueStore, choice: ThemeChoice, root: HTMLElement): void {
  store.setItem(THEME_KEY, choice)
  applyTheme(choice, root)
}

/** `system` removes the attribute: the stylesheet then follows `prefers-color-scheme`. */
export function applyTheme(choice: ThemeChoice, root: HTMLElement): void {
  if (choice === 'system') delete root.dataset['theme']
  else root.dataset['theme'] = choice
}
