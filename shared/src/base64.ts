import { fromBase64, fromBase64UrlEncoded, toBase64, toBase64UrlEncoded } from 'lib0/buffer'

/** Standard base64, as carried in SSE `data:` lines (docs/PROTOCOL.md §6). */
export function encodeBase64(bytes: Uint8Array): string {
  return toBase64(bytes)
}

export function decodeBase64(text: string): Uint8Array {
  return fromBase64(text)
}

/** URL-safe base64 without padding, for state vectors in query strings. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return toBase64UrlEncoded(bytes)
}

/** Throws on characters outside the URL-safe alphabet. */
export function decodeBase64Url(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url')
  return fromBase64UrlEncoded(text)
}
