import type { VersionInfo } from '../../api.ts'

/** What a version is, in the words the history panel shows (R62). */
export function versionTitle(version: VersionInfo): string {
  if (version.name !== null) return `Named: ${version.name}`
  // A cause this client does not know (a newer server) reads as plain "Automatic".
  const words: Record<string, string> = {
    'before-restore': 'Before restore',
    left: 'Automatic · everyone left',
    shutdown: 'Automatic · server restart',
  }
  return words[version.cause ?? ''] ?? 'Automatic'
}

/** "by Ada and Bob", "by Ada, Bob and 2 others"; '' when nobody is known. */
export function authorsInWords(authors: readonly string[]): string {
  if (authors.length === 0) return ''
  if (authors.length === 1) return `by ${authors[0]}`
  if (authors.length <= 3) return `by ${authors.slice(0, -1).join(', ')} and ${authors.at(-1)}`
  return `by ${authors.slice(0, 2).join(', ')} and ${authors.length - 2} others`
}

const MINUTE_MS = 60_000
const HOUR_MS = 60 * MINUTE_MS

/** "just now", "5 minutes ago", "Today, 14:02", "Yesterday, 09:10", else a local date and time. */
export function timeInWords(ms: number, nowMs: number, locale?: string): string {
  const ago = nowMs - ms
  if (ago < 45_000) return 'just now'
  const relative = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' })
  if (ago < HOUR_MS) return relative.format(-Math.max(1, Math.round(ago / MINUTE_MS)), 'minute')
  if (ago < 3 * HOUR_MS) return relative.format(-Math.round(ago / HOUR_MS), 'hour')
  const time = new Date(ms).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })
  const day = startOfDay(ms)
  const today = startOfDay(nowMs)
  if (day === today) return `Today, ${time}`
  if (day === startOfDay(today - 1)) return `Yesterday, ${time}`
  return new Date(ms).toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' })
}

function startOfDay(ms: number): number {
  const date = new Date(ms)
  date.setHours(0, 0, 0, 0)
  return date.getTime()
}
