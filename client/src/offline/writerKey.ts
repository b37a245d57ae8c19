import { encodeBase64Url } from '@tandem/shared'
import type { KeyValueStore } from '../storage.ts'

const KEY_PREFIX = 'tandem.writerKey.'
/** 128 random bits in base64url without padding: 22 characters. */
const WRITER_KEY_BYTES = 16
const WRITER_KEY = /^[A-Za-z0-9_-]{22}$/

/**
 * This browser's writer key for `docId` (SPEC R33, docs/PROTOCOL.md §2), made on first use and
 * kept in localStorage. It must outlive the page: the server binds the Yjs client ids a key first
 * extended to that key, and edits typed offline under the client id of an earlier page load reach
 * the server in a later page load's resync. Under a new key they would be left out as another
 * writer's. One key per document and browser, not per tab: tabs that share edits offline (the tab
 * channel) may each bring the others' edits to the server. A stored value that is not a key is
 * replaced, so a damaged entry cannot pin a guessable key.
 */
export function writerKeyFor(store: KeyValueStore, docId: string): string {
  const storageKey = `${KEY_PREFIX}${docId}`
  const stored = store.getItem(storageKey)
  if (stored !== null && WRITER_KEY.test(stored)) return stored
  const key = encodeBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(WRITER_KEY_BYTES)))
  store.setItem(storageKey, key)
  return key
}
