import type { Clock } from './types.ts'

export interface DebounceOptions {
  /** A window closes once no change came for this long… */
  readonly quietMs: number
  /** …or once this long has passed since its first change, whichever is first (SPEC R40). */
  readonly maxWaitMs: number
  /** Names kept per window; more editors than this are not listed (names come from clients). */
  readonly maxContributors: number
  readonly clock: Clock
}

export interface OpenWindow {
  readonly docId: string
  readonly windowId: string
  readonly firstAt: number
  readonly contributors: ReadonlySet<string>
}

export interface TouchResult {
  /** The change opened a new window (the caller persists it). */
  readonly isNewWindow: boolean
  /** The change added a contributor the window did not have (the caller persists it). */
  readonly hasNewContributor: boolean
  readonly window: OpenWindow
}

interface WindowState {
  readonly docId: string
  readonly windowId: string
  readonly firstAt: number
  lastAt: number
  readonly contributors: Set<string>
  cancelTimer: () => void
}

/**
 * Per-document debounce of `document.updated` (SPEC R40). Each document has at most one open
 * window; it closes at `min(lastChange + quietMs, firstChange + maxWaitMs)` and hands its
 * contributors to `onClose`. One timer per window, re-armed only when it fires early, so a change
 * costs a map lookup and no timer churn.
 */
export class UpdateDebouncer {
  readonly #windows = new Map<string, WindowState>()
  #nextWindow = 0

  constructor(
    private readonly options: DebounceOptions,
    private readonly onClose: (window: OpenWindow) => void,
  ) {}

  touch(docId: string, contributors: Iterable<string>): TouchResult {
    const now = this.options.clock.now()
    let state = this.#windows.get(docId)
    const isNewWindow = state === undefined
    if (!state) {
      state = this.#open(docId, `${now.toString(36)}-${(this.#nextWindow++).toString(36)}`, now, now, [])
    }
    state.lastAt = now
    let hasNewContributor = false
    for (const name of contributors) {
      if (state.contributors.has(name) || state.contributors.size >= this.options.maxContributors) continue
      state.contributors.add(name)
      hasNewContributor = true
    }
    return { isNewWindow, hasNewContributor, window: state }
  }

  /**
   * Reopens a window read back from storage after a restart: it closes after a quiet period from
   * now, or at once when its maximum wait has already passed.
   */
  restore(window: {
    docId: string
    windowId: string
    firstAt: number
    contributors: Iterable<string>
  }): void {
    const existing = this.#windows.get(window.docId)
    if (existing) {
      for (const name of window.contributors) existing.contributors.add(name)
      return
    }
    this.#open(window.docId, window.windowId, window.firstAt, this.options.clock.now(), window.contributors)
  }

  /** Drops the document's open window without closing it (the document is gone). */
  cancel(docId: string): OpenWindow | null {
    const state = this.#windows.get(docId)
    if (!state) return null
    state.cancelTimer()
    this.#windows.delete(docId)
    return state
  }

  get openCount(): number {
    return this.#windows.size
  }

  dispose(): void {
    for (const state of this.#windows.values()) state.cancelTimer()
    this.#windows.clear()
  }

  #open(
    docId: string,
    windowId: string,
    firstAt: number,
    lastAt: number,
    contributors: Iterable<string>,
  ): WindowState {
    const state: WindowState = {
      docId,
      windowId,
      firstAt,
      lastAt,
      contributors: new Set(contributors),
      cancelTimer: () => undefined,
    }
    this.#windows.set(docId, state)
    this.#arm(state)
    return state
  }

  #deadline(state: WindowState): number {
    return Math.min(state.lastAt + this.options.quietMs, state.firstAt + this.options.maxWaitMs)
  }

  #arm(state: WindowState): void {
    const delay = Math.max(0, this.#deadline(state) - this.options.clock.now())
    state.cancelTimer = this.options.clock.schedule(delay, () => {
      if (this.#windows.get(state.docId) !== state) return
      // Changes since arming moved the deadline: sleep again until the new one.
      if (this.options.clock.now() < this.#deadline(state)) return this.#arm(state)
      this.#windows.delete(state.docId)
      this.onClose(state)
    })
  }
}
