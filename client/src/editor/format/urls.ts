/**
 * What the link and image dialogs accept (SPEC R59): links to the web (http, https) and e-mail
 * (mailto), images from the web only. A bare address gets https:// ("example.com" links to
 * https://example.com), a bare e-mail address mailto:. Anything else, `javascript:` and `data:`
 * among them, is refused with a reason the dialog shows next to the field.
 */

export type UrlCheck =
  { readonly ok: true; readonly href: string } | { readonly ok: false; readonly error: string }

const SCHEME = /^([a-z][a-z0-9+.-]*):/i
const EMAIL = /^[^\s@/:]+@[^\s@/:]+\.[^\s@/:]+$/
/** `host:port` reads like a scheme (`localhost:3000`): a scheme is never followed by digits only. */
const HOST_AND_PORT = /^[^\s/:]+:\d+(?:[/?#]|$)/

export function checkLinkUrl(input: string): UrlCheck {
  const text = input.trim()
  if (text === '') return { ok: false, error: 'Enter a web address or an e-mail address.' }
  if (EMAIL.test(text)) return { ok: true, href: `mailto:${text}` }
  const scheme = HOST_AND_PORT.test(text) ? undefined : SCHEME.exec(text)?.[1]?.toLowerCase()
  if (scheme === 'mailto') {
    return text.length > 'mailto:'.length
      ? { ok: true, href: text }
      : { ok: false, error: 'Enter an e-mail address after mailto:.' }
  }
  return checkWebUrl(text, scheme, 'Links can only go to web pages (http, https) or e-mail (mailto).')
}

export function checkImageUrl(input: string): UrlCheck {
  const text = input.trim()
  if (text === '') return { ok: false, error: 'Enter the web address of an image.' }
  const scheme = HOST_AND_PORT.test(text) ? undefined : SCHEME.exec(text)?.[1]?.toLowerCase()
  return checkWebUrl(text, scheme, 'Images can only come from web addresses (http, https).')
}

function checkWebUrl(text: string, scheme: string | undefined, refusal: string): UrlCheck {
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') return { ok: false, error: refusal }
  const href = scheme === undefined ? `https://${text.replace(/^\/+/, '')}` : text
  try {
    const url = new URL(href)
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '')
      return { ok: false, error: refusal }
    // As typed (no trailing slash added): the URL parser only checked it.
    return { ok: true, href }
  } catch {
    return { ok: false, error: 'That does not look like a web address.' }
  }
}
