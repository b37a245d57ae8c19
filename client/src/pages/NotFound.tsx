export function NotFound() {
  return (
    <main className="home">
      <h1 className="home-title">Not found</h1>
      <p className="home-tagline">There is no page at this address.</p>
      <a className="button" href="/">
        Go to Tandem
      </a>
    </main>
  )
}
