import { CLOSE_REASONS, isValidDocId, type CloseReason } from '@tandem/shared'
import type { Role } from '../core/types.ts'
import type { DocStore } from '../persistence/DocStore.ts'
import type { LinkSigner } from './links.ts'

export type AccessResult =
  { readonly ok: true; readonly role: Role } | { readonly ok: false; readonly reason: CloseReason }

export interface ShareLinks {
  readonly id: string
  readonly editToken: string
  readonly viewToken: string
  readonly editUrl: string
  readonly viewUrl: string
}

/**
 * The one gate every transport and route calls before doing any work (SPEC R17): invalid id →
 * 400, no token → 401, unknown document → 404, token for another document, altered or reset → 403.
 */
export class Access {
  constructor(
    private readonly store: DocStore,
    private readonly signer: LinkSigner,
  ) {}

  async check(docId: string, token: string | null | undefined): Promise<AccessResult> {
    if (!isValidDocId(docId)) return { ok: false, reason: CLOSE_REASONS.invalidDocId }
    if (!token) return { ok: false, reason: CLOSE_REASONS.unauthorized }
    const meta = await this.store.getMeta(docId)
    if (!meta) return { ok: false, reason: CLOSE_REASONS.docNotFound }
    const role = this.signer.verify(docId, token, meta.linkKey)
    return role ? { ok: true, role } : { ok: false, reason: CLOSE_REASONS.forbidden }
  }

  links(docId: string, linkKey: string): ShareLinks {
    const editToken = this.signer.mint(docId, 'edit', linkKey)
    const viewToken = this.signer.mint(docId, 'view', linkKey)
    return {
      id: docId,
      editToken,
      viewToken,
      editUrl: `/d/${docId}?k=${editToken}`,
      viewUrl: `/v/${docId}?k=${viewToken}`,
    }
  }
}
