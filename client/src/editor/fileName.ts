/** Export formats the document menu offers (R61), with the extension each file gets. */
export const DOWNLOAD_FORMATS = [
  { format: 'html', label: 'HTML', extension: 'html' },
  { format: 'markdown', label: 'Markdown', extension: 'md' },
  { format: 'json', label: 'JSON', extension: 'json' },
  { format: 'text', label: 'Plain text', extension: 'txt' },
] as const

export type DownloadFormat = (typeof DOWNLOAD_FORMATS)[number]

const MAX_BASE_NAME_LENGTH = 100
/** Names Windows keeps for devices, with any extension. */
const RESERVED_NAME = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i

/**
 * "My title.md" from the title: characters Windows, macOS or Linux refuse in a name (and control
 * characters) become spaces, leading and trailing dots and spaces go (Windows drops trailing
 * ones, a leading dot hides the file), long titles are cut; "Untitled" when nothing is left.
 */
export function downloadFileName(title: string, extension: string): string {
  const cleaned = title
    // eslint-disable-next-line no-control-regex -- control characters are what is replaced
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]+/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/^[\s.]+|[\s.]+$/g, '')
  let base = Array.from(cleaned)
    .slice(0, MAX_BASE_NAME_LENGTH)
    .join('')
    .replace(/[\s.]+$/, '')
  if (base === '') base = 'Untitled'
  if (RESERVED_NAME.test(base)) base = `${base} document`
  return `${base}.${extension}`
}
