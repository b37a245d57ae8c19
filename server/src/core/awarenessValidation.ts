import * as decoding from 'lib0/decoding'

export interface AwarenessLimits {
  /** Entries in one awareness message; a client announces itself, rarely more. */
  readonly maxEntries: number
  /** Bytes of one state's JSON. */
  readonly maxStateBytes: number
  /** Nesting of a state's JSON. */
  readonly maxStateDepth: number
  /** How far one message may advance a client's clock: stops "lock-out" clocks (R32). */
  readonly maxClockStep: number
}

export const DEFAULT_AWARENESS_LIMITS: AwarenessLimits = {
  maxEntries: 8,
  maxStateBytes: 16 * 1024,
  maxStateDepth: 16,
  maxClockStep: 1_000_000,
}

export interface AwarenessEntryInfo {
  readonly clientId: number
  readonly clock: number
  readonly isRemoval: boolean
}

export type AwarenessVerdict =
  | { readonly ok: true; readonly entries: readonly AwarenessEntryInfo[] }
  | { readonly ok: false; readonly detail: string }

/**
 * Checks an awareness update's shape and bounds before y-protocols applies it (SPEC R32).
 * `knownClock` gives the clock the room holds for a client, if any. Ownership (a peer may only
 * speak for its own client ids) is the room's check, on the returned entries.
 */
export function validateAwareness(
  update: Uint8Array,
  knownClock: (clientId: number) => number | undefined,
  limits: AwarenessLimits,
): AwarenessVerdict {
  const entries: AwarenessEntryInfo[] = []
  try {
    const decoder = decoding.createDecoder(update)
    const count = decoding.readVarUint(decoder)
    if (count > limits.maxEntries) return { ok: false, detail: `more than ${limits.maxEntries} entries` }
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(decoder)
      const clock = decoding.readVarUint(decoder)
      const json = decoding.readVarString(decoder)
      if (clientId > 0xffffffff) return { ok: false, detail: 'invalid client id' }
      const known = knownClock(clientId) ?? 0
      if (!Number.isSafeInteger(clock) || clock > known + limits.maxClockStep) {
        return { ok: false, detail: 'clock jumps too far' }
      }
      if (json.length > limits.maxStateBytes) return { ok: false, detail: 'state too large' }
      const state: unknown = JSON.parse(json)
      if (depth(state) > limits.maxStateDepth) return { ok: false, detail: 'state nested too deeply' }
      entries.push({ clientId, clock, isRemoval: state === null })
    }
    if (decoding.hasContent(decoder)) return { ok: false, detail: 'trailing bytes' }
  } catch (error) {
    return { ok: false, detail: `malformed: ${error instanceof Error ? error.message : String(error)}` }
  }
  return { ok: true, entries }
}

function depth(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0
  let deepest = 0
  for (const child of Object.values(value)) deepest = Math.max(deepest, depth(child))
  return deepest + 1
}
