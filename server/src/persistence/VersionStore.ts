/**
 * Version history behind one small port (STYLE.md 4, 17; SPEC R62). A version is the document's
 * whole encoded state (`Y.encodeStateAsUpdate`, the bytes a new client receives) at one moment:
 * no Yjs snapshots, so documents keep garbage collection on. Every implementation passes the
 * contract suite in server/test/versionStoreContract.ts, applies the retention rule below on every
 * insert in the same atomic write, and never swallows a failed write (STYLE.md 5, SPEC R57).
 */

/** Why an automatic version was taken (SPEC R62); the client words each one. */
export type VersionCause = 'pause' | 'left' | 'before-restore' | 'shutdown'

export type VersionKind =
  { readonly kind: 'named'; readonly name: string } | { readonly kind: 'auto'; readonly cause: VersionCause }

export type VersionMeta = VersionKind & {
  /** Sortable and increasing within a document: 12 hex digits of a per-document tick. */
  readonly id: string
  readonly createdAt: number
  /** Display names of the editors who wrote since the previous version (best effort). */
  readonly authors: readonly string[]
  /** Bytes of the stored state. */
  readonly bytes: number
}

export type NewVersion = VersionKind & {
  readonly authors: readonly string[]
  readonly state: Uint8Array
}

export interface VersionStore {
  /** Stores a version and drops what the retention rule no longer keeps, in one atomic write. */
  add(docId: string, version: NewVersion): Promise<VersionMeta>
  /** The document's versions, newest first. */
  list(docId: string): Promise<VersionMeta[]>
  /** One version with its state, or null. */
  get(docId: string, versionId: string): Promise<{ meta: VersionMeta; state: Uint8Array } | null>
  /** Removes every version of the document (it is being deleted, SPEC R55). */
  deleteAll(docId: string): Promise<void>
}

/** Longest version name accepted (characters, after trimming). */
export const MAX_VERSION_NAME_LENGTH = 100
/** Authors kept per version: a long session lists the first ones. */
export const MAX_VERSION_AUTHORS = 20
/** A version id: what `versionId` produces; anything else is not one (routes check it). */
export const VERSION_ID_PATTERN = /^[0-9a-f]{12}$/

/**
 * The retention rule (SPEC R62), bounded per document at
 * NAMED_KEPT + RECENT_AUTO_KEPT + DAILY_AUTO_DAYS versions:
 * - named versions: the newest NAMED_KEPT;
 * - automatic versions of the last 24 hours: the newest RECENT_AUTO_KEPT;
 * - older automatic versions: the newest of each UTC day, for DAILY_AUTO_DAYS days.
 */
export const RETENTION = {
  NAMED_KEPT: 50,
  RECENT_AUTO_KEPT: 50,
  RECENT_MS: 24 * 60 * 60 * 1000,
  DAILY_AUTO_DAYS: 30,
} as const

const DAY_MS = 24 * 60 * 60 * 1000

/** Ids of the versions the retention rule drops at `now`; `versions` in any order. */
export function droppedByRetention(versions: readonly VersionMeta[], now: number): string[] {
  const newestFirst = [...versions].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
  const dropped: string[] = []
  let named = 0
  let recent = 0
  const days = new Set<number>()
  for (const version of newestFirst) {
    if (version.kind === 'named') {
      named += 1
      if (named > RETENTION.NAMED_KEPT) dropped.push(version.id)
      continue
    }
    const age = now - version.createdAt
    if (age < RETENTION.RECENT_MS) {
      recent += 1
      if (recent > RETENTION.RECENT_AUTO_KEPT) dropped.push(version.id)
      continue
    }
    const day = Math.floor(version.createdAt / DAY_MS)
    if (age >= (RETENTION.DAILY_AUTO_DAYS + 1) * DAY_MS || days.has(day)) dropped.push(version.id)
    else days.add(day)
  }
  return dropped
}

/** The id of a version taken at `now` after one with id `lastId`: increasing even if the clock is not. */
export function versionId(now: number, lastId: string | undefined): string {
  const last = lastId === undefined ? -1 : parseInt(lastId, 16)
  return Math.max(now, last + 1)
    .toString(16)
    .padStart(12, '0')
}

/** The authors list as stored: distinct, non-empty, bounded. */
export function boundedAuthors(authors: readonly string[]): string[] {
  return [...new Set(authors.filter((name) => name !== ''))].slice(0, MAX_VERSION_AUTHORS)
}
