import type { Disposer } from './types.ts'

/**
 * What happened to documents, for integrations (webhooks, metrics). `document.persisted` is
 * emitted only once the change is durable, so nothing downstream reports an edit that a crash
 * could still lose.
 */
export type DocumentEvent =
  | { readonly type: 'document.created'; readonly docId: string; readonly at: number }
  | {
      readonly type: 'document.persisted'
      readonly docId: string
      /** Display names of the editors whose edits this covers ('' when a client gave none). */
      readonly contributors: readonly string[]
      readonly at: number
    }
  | { readonly type: 'document.deleted'; readonly docId: string; readonly at: number }
  | { readonly type: 'links.reset'; readonly docId: string; readonly at: number }

export class DocumentEvents {
  readonly #listeners = new Set<(event: DocumentEvent) => void>()

  on(listener: (event: DocumentEvent) => void): Disposer {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  emit(event: DocumentEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // A failing subscriber must not break the edit path; subscribers log their own errors.
      }
    }
  }
}
