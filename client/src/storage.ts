/** The part of Web Storage we use, so a blocked localStorage can fall back to memory. */
export interface KeyValueStore {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
}

/**
 * localStorage, or a per-tab memory store when the browser blocks it (site data disabled): the
 * user is then asked again next visit, which beats a page that throws. Call it once per page and
 * pass the result down: each memory fallback is its own.
 */
export function browserStore(): KeyValueStore {
  try {
    const storage = window.localStorage
    // Reading is what throws when site data is blocked; the key does not matter.
    storage.getItem('tandem.identity')
    return storage
  } catch {
    const memory = new Map<string, string>()
    return { getItem: (key) => memory.get(key) ?? null, setItem: (key, value) => void memory.set(key, value) }
  }
}
