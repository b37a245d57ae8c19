import type { LinkMode } from '../route.ts'

/** A document address without a token that this browser does not already hold. */
export function MissingLink({ mode }: { mode: LinkMode }) {
  return (
    <main className="home">
      <h1 className="home-title">Link needed</h1>
      <p className="home-tagline" data-testid="missing-link">
        Documents open only through their {mode === 'edit' ? 'edit' : 'view'} link, the whole address ending
        in <code>?k=…</code>. Ask the person who shared it with you for the full link.
      </p>
      <a className="button" href="/">
        Go to Tandem
      </a>
    </main>
  )
}
