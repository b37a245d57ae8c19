import type { EditorPage } from './EditorPage.ts'

/**
 * Types numbered pieces, `[a1]`, `[a2]`, … at the caret and remembers them; the brackets keep
 * `[a1]` from being found inside `[a12]`, so "exactly once" can be checked by splitting.
 * (tests/fallback.spec.ts has the same helper inline.)
 */
export class Typist {
  readonly pieces: string[] = []

  constructor(
    private readonly editor: EditorPage,
    private readonly prefix: string,
    private readonly keyDelayMs: number,
  ) {}

  async type(count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      const piece = `[${this.prefix}${this.pieces.length + 1}]`
      await this.editor.type(piece, { delayMs: this.keyDelayMs })
      this.pieces.push(piece)
    }
  }

  /** At least one piece, then more until `isDone()`; a piece is always typed whole. */
  async typeUntil(isDone: () => boolean): Promise<void> {
    do await this.type(1)
    while (!isDone())
  }
}

/** Each piece occurs in `text` exactly once, as `{ piece: count }` for those that do not. */
export function miscounted(text: string, pieces: readonly string[]): Record<string, number> {
  const counts = pieces.map((piece): [string, number] => [piece, text.split(piece).length - 1])
  return Object.fromEntries(counts.filter(([, count]) => count !== 1))
}
