import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Role } from '../core/types.ts'

const ROLE_TAG: Record<Role, string> = { edit: 'e', view: 'v' }
const MAX_TOKEN_LENGTH = 128

/**
 * Share-link tokens (docs/PROTOCOL.md §7): `<e|v>.<base64url HMAC-SHA256>`, where the MAC covers
 * the document id, the role and the document's link key under the server secret. A token is valid
 * for exactly one document and role; replacing the link key revokes it (SPEC R18, R19).
 */
export class LinkSigner {
  constructor(private readonly secret: Uint8Array) {}

  mint(docId: string, role: Role, linkKey: string): string {
    return `${ROLE_TAG[role]}.${this.#mac(docId, role, linkKey)}`
  }

  /** The role the token grants for this document, or null. Compares in constant time. */
  verify(docId: string, token: string, linkKey: string): Role | null {
    if (token.length > MAX_TOKEN_LENGTH || linkKey === '') return null
    const [tag, mac, ...rest] = token.split('.')
    const role = tag === 'e' ? 'edit' : tag === 'v' ? 'view' : null
    if (role === null || mac === undefined || rest.length > 0) return null
    const expected = Buffer.from(this.#mac(docId, role, linkKey))
    const given = Buffer.from(mac)
    return given.length === expected.length && timingSafeEqual(given, expected) ? role : null
  }

  #mac(docId: string, role: Role, linkKey: string): string {
    return createHmac('sha256', this.secret)
      .update(`tandem-link-v1\n${docId}\n${role}\n${linkKey}`)
      .digest('base64url')
  }
}

export function newLinkKey(): string {
  return randomBytes(16).toString('base64url')
}
