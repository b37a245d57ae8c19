import type { KeyValueStore } from '../src/storage.ts'

/** A KeyValueStore over a Map, with the Map exposed so tests can read or corrupt what was stored. */
export function memoryStore(
  initial: Record<string, string> = {},
): KeyValueStore & { data: Map<string, string> } {
  const data = new Map(Object.entries(initial))
  return { data, getItem: (key) => data.get(key) ?? null, setItem: (key, value) => void data.set(key, value) }
}
