import { useEffect, useRef, type ReactNode } from 'react'
import './dialog.css'

interface Props {
  /** Id of the element that names the dialog (its heading). */
  readonly labelledBy: string
  /** Escape, the close button or a click on the backdrop; omit for a dialog that must be answered. */
  readonly onClose?: () => void
  readonly className?: string
  readonly testId?: string
  readonly children: ReactNode
}

/**
 * A modal dialog on the platform's `<dialog>` (SPEC R63): `showModal()` makes the rest of the page
 * inert, so focus cannot leave it and screen readers see only it; Escape closes it; on close, focus
 * goes back to what had it before it opened (the button that opened it), even when the dialog is
 * removed by its owner rather than closed by the browser.
 */
export function Dialog({ labelledBy, onClose, className, testId, children }: Props) {
  const ref = useRef<HTMLDialogElement>(null)
  const onCloseRef = useRef(onClose)
  onCloseRef.current = onClose

  useEffect(() => {
    const dialog = ref.current
    if (dialog === null) return
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
    if (!dialog.open) dialog.showModal()
    // Escape fires `cancel`: the owner decides (it removes the dialog); a dialog without onClose
    // stays open until answered.
    const onCancel = (event: Event): void => {
      event.preventDefault()
      onCloseRef.current?.()
    }
    dialog.addEventListener('cancel', onCancel)
    return () => {
      dialog.removeEventListener('cancel', onCancel)
      if (dialog.open) dialog.close()
      if (opener?.isConnected) opener.focus()
    }
  }, [])

  return (
    <dialog
      ref={ref}
      className={['dialog', 'card', className].filter(Boolean).join(' ')}
      aria-labelledby={labelledBy}
      data-testid={testId}
      // A click on the backdrop lands on the <dialog> itself, outside its content box.
      onClick={(event) => {
        if (event.target === event.currentTarget && onCloseRef.current) {
          const box = event.currentTarget.getBoundingClientRect()
          const isOutside =
            event.clientX < box.left ||
            event.clientX > box.right ||
            event.clientY < box.top ||
            event.clientY > box.bottom
          if (isOutside) onCloseRef.current()
        }
      }}
    >
      {children}
    </dialog>
  )
}
