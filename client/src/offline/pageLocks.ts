/**
 * Which pages are still open, across the tabs of this browser: each page holds a lock for its
 * journal as long as it lives, and the browser releases it when the page goes however it goes
 * (closed, reloaded, crashed). A journal whose lock is free belongs to a page that is gone, and
 * a later page load may take it over (offline/journal.ts).
 */
export interface PageLocks {
  /** Holds `name` for this page until the returned release runs, or the page goes away. */
  hold(name: string): Promise<() => void>
  /** Whether a live page holds `name`. */
  isHeld(name: string): Promise<boolean>
}

/**
 * Web Locks where the browser has them (secure contexts). Elsewhere nothing is held: a page may
 * then take over the journal of a tab that is still open, which costs nothing but a repeat —
 * both keep the updates until IndexedDB has them, and a journal is removed only if unchanged.
 */
export function browserPageLocks(): PageLocks {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks
  if (locks === undefined) return NO_LOCKS
  return {
    hold: (name) =>
      new Promise((granted) => {
        locks
          .request(name, () => new Promise<void>((release) => granted(release)))
          // Refused (the page is going away, say): journal without one, as where there are none.
          .catch(() => granted(() => undefined))
      }),
    isHeld: async (name) => {
      try {
        return await locks.request(name, { ifAvailable: true }, (lock) => lock === null)
      } catch {
        // Taken over while its page lives: harmless, as above; left alone, it might never be.
        return false
      }
    },
  }
}

const NO_LOCKS: PageLocks = {
  hold: () => Promise.resolve(() => undefined),
  isHeld: () => Promise.resolve(false),
}
