/// <reference types="vite-plugin-pwa/vanillajs" />
import { registerSW } from 'virtual:pwa-register'

/**
 * Registers the app-shell service worker (vite.config.ts), which lets document pages open and
 * reload offline (SPEC R38). Where service workers are unavailable (plain http off localhost,
 * private modes) the app simply needs the network to load, as before.
 *
 * A new version installs and takes over at once (autoUpdate), but an open page is not reloaded
 * for it: that would cost an editor their caret and undo history. Every chunk a page needs is
 * fetched as it starts, and pages change by full navigations, which load the new version.
 */
export function registerAppShell(): void {
  registerSW({ immediate: true, onNeedReload: () => undefined })
}
