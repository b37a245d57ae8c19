import { useEffect, useState } from 'react'

const CONFIRMATION_MS = 2_000

type CopyState = 'idle' | 'copied' | 'failed'

/** Copies the document's address (without `?name=`) so it can be shared. */
export function CopyLinkButton({ path }: { path: string }) {
  const [state, setState] = useState<CopyState>('idle')

  useEffect(() => {
    if (state === 'idle') return undefined
    const timer = setTimeout(() => setState('idle'), CONFIRMATION_MS)
    return () => clearTimeout(timer)
  }, [state])

  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(new URL(path, window.location.origin).toString())
      setState('copied')
    } catch {
      // Clipboard access needs a secure context and permission; the address bar still works.
      setState('failed')
    }
  }

  return (
    <button type="button" className="button button-small" onClick={() => void copy()}>
      {labelFor(state)}
    </button>
  )
}

function labelFor(state: CopyState): string {
  switch (state) {
    case 'idle':
      return 'Copy link'
    case 'copied':
      return 'Copied'
    case 'failed':
      return 'Copy the address bar'
  }
}
