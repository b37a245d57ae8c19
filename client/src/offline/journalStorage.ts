import { decodeBase64, encodeBase64 } from '@tandem/shared'
import * as Y from 'yjs'

/**
 * How the write-ahead journal (journal.ts) sits in localStorage: one key per page, holding that
 * page's entries one per line, each the base64 of a Yjs update.
 */

/** The part of Web Storage the journal uses: localStorage in the browser, a Map in tests. */
export type JournalStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem' | 'key' | 'length'>

const KEY_PREFIX = 'tandem.journal.'
const SEPARATOR = '\n'
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

/**
 * `tandem.journal.<docId>.<pageId>`: one key per page, because localStorage has no atomic append
 * and two tabs rewriting one key would drop each other's entries. Document ids have no `.` (R3),
 * so the prefix with its trailing dot names exactly one document's journals.
 */
export function journalKey(docId: string, pageId: string): string {
  return `${journalPrefix(docId)}${pageId}`
}

/** The keys of every journal of `docId` in `storage`, this page's included. */
export function journalKeysOf(storage: JournalStorage, docId: string): string[] {
  const prefix = journalPrefix(docId)
  const keys: string[] = []
  for (let index = 0; index < storage.length; index += 1) {
    const key = storage.key(index)
    if (key?.startsWith(prefix)) keys.push(key)
  }
  return keys
}

/** One entry as stored: its line, without the separator. */
export function encodeJournalEntry(update: Uint8Array): string {
  return encodeBase64(update)
}

/** The stored value of a journal: its entries' lines. Each costs its length plus one. */
export function joinJournalEntries(entries: readonly string[]): string {
  return entries.join(SEPARATOR)
}

/**
 * The updates a stored journal holds. Entries that are not base64 of a Yjs update (damaged, or
 * written by another build) are skipped: what remains is still worth applying.
 */
export function readJournal(value: string): Uint8Array[] {
  const updates: Uint8Array[] = []
  for (const line of value.split(SEPARATOR)) {
    if (!BASE64.test(line)) continue
    try {
      const update = decodeBase64(line)
      Y.decodeUpdate(update)
      updates.push(update)
    } catch {
      // Not an update: skipped.
    }
  }
  return updates
}

/** Removes every journal of `docId` in this browser (the document is gone: 4404). */
export function forgetJournals(storage: JournalStorage, docId: string): void {
  for (const key of journalKeysOf(storage, docId)) storage.removeItem(key)
}

/** localStorage, or null where the browser blocks it (site data disabled) or has none. */
export function browserJournalStorage(): JournalStorage | null {
  try {
    if (typeof localStorage === 'undefined') return null
    // Reading is what throws when site data is blocked; the key does not matter.
    localStorage.getItem(KEY_PREFIX)
    return localStorage
  } catch {
    return null
  }
}

function journalPrefix(docId: string): string {
  return `${KEY_PREFIX}${docId}.`
}
