import { useEffect, useState } from 'react'

const CONFIRMATION_MS = 2_000

type CopyState = 'idle' | 'copied' | 'failed'

interface Props {
  readonly text: string
  /** For screen readers, e.g. "Copy view link": several Copy buttons share one dialog. */
  readonly label: string
}

export function CopyButton({ text, label }: Props) {
  const [state, setState] = useState<CopyState>('idle')

  useEffect(() => {
    if (state === 'idle') return undefined
    const timer = setTimeout(() => setState('idle'), CONFIRMATION_MS)
    return () => clearTimeout(timer)
  }, [state])

  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(text)
      setState('copied')
    } catch {
      // Clipboard access needs a secure context and permission; the field can still be selected.
      setState('failed')
    }
  }

  return (
    <button
      type="button"
      className="button button-small"
      aria-label={state === 'idle' ? label : buttonText(state)}
      onClick={() => void copy()}
    >
      {buttonText(state)}
    </button>
  )
}

function buttonText(state: CopyState): string {
  switch (state) {
    case 'idle':
      return 'Copy'
    case 'copied':
      return 'Copied'
    case 'failed':
      return 'Select and copy'
  }
}
