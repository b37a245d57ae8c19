import { useEffect, useId, useRef, useState, type ReactNode } from 'react'

interface Props {
  /** What the button shows. */
  readonly button: ReactNode
  /** The button's accessible name, when what it shows does not say it (an icon, a count). */
  readonly buttonLabel?: string
  readonly buttonClassName: string
  readonly buttonTestId?: string
  readonly buttonTitle?: string
  readonly isButtonHidden?: boolean
  /** Names the panel for screen readers. */
  readonly panelLabel: string
  readonly panelClassName?: string
  readonly panelTestId?: string
  readonly children: ReactNode
}

/**
 * A button that shows a small panel under it (SPEC R63): the platform's `popover="auto"`, so
 * Escape and a click elsewhere close it, Tab from the button moves into it, and it sits in the top
 * layer, never clipped by the header. The button says whether it is open (`aria-expanded`). The
 * panel is anchored to its button by CSS (`position-area`, styles.css `.popover`).
 */
export function Popover(props: Props) {
  const id = useId()
  const panelRef = useRef<HTMLDivElement>(null)
  const [isOpen, setIsOpen] = useState(false)

  useEffect(() => {
    const panel = panelRef.current
    if (panel === null) return
    const onToggle = (event: Event): void => setIsOpen((event as ToggleEvent).newState === 'open')
    panel.addEventListener('toggle', onToggle)
    return () => panel.removeEventListener('toggle', onToggle)
  }, [])

  return (
    <>
      <button
        type="button"
        className={props.buttonClassName}
        popoverTarget={id}
        aria-expanded={isOpen}
        aria-controls={id}
        aria-label={props.buttonLabel}
        title={props.buttonTitle}
        data-testid={props.buttonTestId}
        hidden={props.isButtonHidden}
      >
        {props.button}
      </button>
      <div
        ref={panelRef}
        id={id}
        popover="auto"
        role="group"
        aria-label={props.panelLabel}
        className={['popover', props.panelClassName].filter(Boolean).join(' ')}
        data-testid={props.panelTestId}
      >
        {props.children}
      </div>
    </>
  )
}
