import type { KeyValueStore } from '../storage.ts'

/**
 * Who the local user is to others: a display name and a caret colour, chosen once and remembered
 * in localStorage. The colour must be `#rrggbb`: CollaborationCaret renders any other value as
 * transparent.
 */
export interface Identity {
  readonly name: string
  readonly color: string
  /** Made up for someone who has not chosen a name yet ("Anonymous Heron"): the page offers a change. */
  readonly isGenerated?: boolean
}

export const MAX_NAME_LENGTH = 40
const STORAGE_KEY = 'tandem.identity'
/** Lets tests and shared demo links skip the name prompt: `/d/<id>?name=Alice`. */
export const NAME_PARAM = 'name'
const HEX_COLOR = /^#[0-9a-f]{6}$/i

/** Saturated enough to carry white label text, distinct enough to tell two carets apart. */
export const PALETTE = [
  '#d32f2f',
  '#c2185b',
  '#7b1fa2',
  '#512da8',
  '#1976d2',
  '#0277bd',
  '#00796b',
  '#2e7d32',
  '#b45309',
  '#5d4037',
] as const

/** Animals for generated names: short, distinct, and pleasant to be called. */
const ANIMALS = [
  'Heron',
  'Otter',
  'Lynx',
  'Badger',
  'Falcon',
  'Marten',
  'Ibex',
  'Puffin',
  'Gecko',
  'Bison',
  'Crane',
  'Dingo',
  'Ferret',
  'Koala',
  'Lemur',
  'Manatee',
  'Narwhal',
  'Ocelot',
  'Panda',
  'Quokka',
  'Raven',
  'Salmon',
  'Tapir',
  'Walrus',
  'Yak',
  'Zebra',
  'Beaver',
  'Coyote',
  'Dolphin',
  'Egret',
] as const

/** "Anonymous Heron": a name that never stands between a person and the document. */
export function generatedName(random: () => number = Math.random): string {
  return `Anonymous ${ANIMALS[Math.floor(random() * ANIMALS.length)] ?? ANIMALS[0]}`
}

/** Trims and collapses whitespace; null when nothing is left or the name is too long. */
export function normalizeName(raw: string): string | null {
  const name = raw.trim().replace(/\s+/g, ' ')
  return name.length > 0 && name.length <= MAX_NAME_LENGTH ? name : null
}

/** The same name always gets the same colour, so people keep their colour across devices. */
export function colorForName(name: string): string {
  // FNV-1a: tiny, and spreads short similar names ("Ann", "Anna") over the palette.
  let hash = 0x811c9dc5
  for (let i = 0; i < name.length; i += 1) {
    hash ^= name.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return PALETTE[(hash >>> 0) % PALETTE.length] ?? PALETTE[0]
}

export function loadIdentity(storage: KeyValueStore): Identity | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null')
  } catch {
    return null
  }
  if (typeof parsed !== 'object' || parsed === null) return null
  const { name: rawName, color, isGenerated } = parsed as Record<string, unknown>
  const name = typeof rawName === 'string' ? normalizeName(rawName) : null
  if (name === null) return null
  const identity = {
    name,
    color: typeof color === 'string' && HEX_COLOR.test(color) ? color : colorForName(name),
  }
  return isGenerated === true ? { ...identity, isGenerated: true } : identity
}

/** Remembers `name` (which must pass normalizeName) and returns the identity to use. */
export function saveIdentity(storage: KeyValueStore, name: string, isGenerated = false): Identity {
  const identity: Identity = { name, color: colorForName(name), ...(isGenerated ? { isGenerated } : {}) }
  storage.setItem(STORAGE_KEY, JSON.stringify(identity))
  return identity
}

/** A valid `?name=` wins and is remembered; otherwise the remembered identity, if any. */
export function resolveIdentity(search: string, storage: KeyValueStore): Identity | null {
  const fromUrl = normalizeName(new URLSearchParams(search).get(NAME_PARAM) ?? '')
  if (fromUrl !== null) return saveIdentity(storage, fromUrl)
  return loadIdentity(storage)
}

/** The identity an editor opens a document with: the one resolved, or a generated one, remembered. */
export function editorIdentity(search: string, storage: KeyValueStore, random?: () => number): Identity {
  return resolveIdentity(search, storage) ?? saveIdentity(storage, generatedName(random), true)
}

/** The search string without `?name=`, so a copied link does not hand your name to others. */
export function searchWithoutName(search: string): string {
  const params = new URLSearchParams(search)
  params.delete(NAME_PARAM)
  const rest = params.toString()
  return rest === '' ? '' : `?${rest}`
}

/**
 * The colour to show in a room (R58): your own, unless someone who joined the awareness with a
 * lower client id shows it; then the next palette colour none of them shows, while one is left.
 * Each person yields only to lower ids, so the colours settle, and no two share one while the
 * palette has a colour nobody shows.
 */
export function distinctColor(
  own: string,
  ownClientId: number,
  others: ReadonlyArray<{ readonly clientId: number; readonly color: string }>,
  palette: readonly string[] = PALETTE,
): string {
  const taken = new Set(others.filter((other) => other.clientId < ownClientId).map((other) => other.color))
  if (!taken.has(own)) return own
  const start = Math.max(palette.indexOf(own), 0)
  for (let step = 1; step <= palette.length; step += 1) {
    const color = palette[(start + step) % palette.length] as string
    if (!taken.has(color)) return color
  }
  return own
}
