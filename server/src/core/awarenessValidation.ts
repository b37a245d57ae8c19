import * as decoding from 'lib0/decoding'

export interface AwarenessLimits {
  /**
   * Entries in one awareness message. Stock y-websocket clients echo every state they receive, so
   * a client joining a busy document sends one entry per person present: this bound is a sanity
   * check on the frame, far above any real room; only claimed entries are limited per peer (R32).
   */
  readonly maxEntries: number
  /** Bytes of one state's JSON. */
  readonly maxStateBytes: number
  /** Nesting of a state's JSON. */
  readonly maxStateDepth: number
  /** How far one message may advance a client's clock: stops "lock-out" clocks (R32). */
  readonly maxClockStep: number
}

export const DEFAULT_AWARENESS_LIMITS: AwarenessLimits = {
  maxEntries: 10_000,
  maxStateBytes: 16 * 1024,
  maxStateDepth: 16,
  maxClockStep: 1_000_000,
}

/** One entry of an awareness update, its state still as the JSON text the client sent. */
export interface RawAwarenessEntry {
  readonly clientId: number
  readonly clock: number
  readonly json: string
}

export type AwarenessDecoding =
  | { readonly ok: true; readonly entries: readonly RawAwarenessEntry[] }
  | { readonly ok: false; readonly detail: string }

/**
 * Reads an awareness update's frame (count, then client id, clock and JSON text per entry)
 * without parsing any state: most entries of a stock client's message are echoes the room drops
 * unread (R32). A truncated frame, trailing bytes, an id beyond 32 bits or an unsafe clock fail.
 */
export function readAwarenessEntries(update: Uint8Array, limits: AwarenessLimits): AwarenessDecoding {
  const entries: RawAwarenessEntry[] = []
  try {
    const decoder = decoding.createDecoder(update)
    const count = decoding.readVarUint(decoder)
    if (count > limits.maxEntries) return { ok: false, detail: `more than ${limits.maxEntries} entries` }
    for (let i = 0; i < count; i++) {
      const clientId = decoding.readVarUint(decoder)
      const clock = decoding.readVarUint(decoder)
      const json = decoding.readVarString(decoder)
      if (clientId > 0xffffffff) return { ok: false, detail: 'invalid client id' }
      if (!Number.isSafeInteger(clock)) return { ok: false, detail: 'clock jumps too far' }
      entries.push({ clientId, clock, json })
    }
    if (decoding.hasContent(decoder)) return { ok: false, detail: 'trailing bytes' }
  } catch (error) {
    return { ok: false, detail: `malformed: ${error instanceof Error ? error.message : String(error)}` }
  }
  return { ok: true, entries }
}

export type StateVerdict =
  { readonly ok: true; readonly state: unknown } | { readonly ok: false; readonly detail: string }

/**
 * Checks a state a peer sets for one of its own client ids: bounded in size, depth and clock
 * step over the clock the room holds (`knownClock`, 0 if none).
 */
export function checkAwarenessState(
  entry: RawAwarenessEntry,
  knownClock: number,
  limits: AwarenessLimits,
): StateVerdict {
  if (entry.clock > knownClock + limits.maxClockStep) return { ok: false, detail: 'clock jumps too far' }
  if (entry.json.length > limits.maxStateBytes) return { ok: false, detail: 'state too large' }
  let state: unknown
  try {
    state = JSON.parse(entry.json)
  } catch (error) {
    return { ok: false, detail: `malformed: ${error instanceof Error ? error.message : String(error)}` }
  }
  if (depth(state) > limits.maxStateDepth) return { ok: false, detail: 'state nested too deeply' }
  return { ok: true, state }
}

function depth(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0
  let deepest = 0
  for (const child of Object.values(value)) deepest = Math.max(deepest, depth(child))
  return deepest + 1
}
