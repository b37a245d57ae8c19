import { MAX_TITLE_LENGTH } from '@tandem/shared'
import { useEffect, useMemo, useRef, type KeyboardEvent } from 'react'
import type * as Y from 'yjs'
import { applyFieldValue, mapPosition, TITLE_FIELD_ORIGIN, titleText, useDocumentTitle } from './title.ts'
import './title.css'

interface Props {
  readonly doc: Y.Doc
  /** False while the page cannot write (refused, receive-only): the title is shown, not edited. */
  readonly isEditable: boolean
}

/**
 * The document's title in the header (SPEC R60), co-edited like the text: each keystroke is the
 * smallest change to the `title` Y.Text; someone else's change updates the field without moving
 * your caret off the letters it was between. Enter or ↓ goes on into the text, as in Google Docs.
 *
 * The <input> is uncontrolled: React re-rendering a controlled value on a remote change would put
 * the caret at the end; here the observer sets the value and the mapped selection in one step.
 */
export function TitleField({ doc, isEditable }: Props) {
  const ref = useRef<HTMLInputElement>(null)
  const text = useMemo(() => titleText(doc), [doc])

  useEffect(() => {
    const input = ref.current
    if (input === null) return undefined
    input.value = text.toString()
    // While an input method composes (Japanese, Chinese, accents on some layouts), setting the
    // value would cancel the composition: remote changes wait for its end.
    let isComposing = false
    const onCompositionStart = (): void => {
      isComposing = true
    }
    const onCompositionEnd = (): void => {
      isComposing = false
      applyFieldValue(text, input.value)
      if (input.value !== text.toString()) input.value = text.toString()
    }
    const onChange = (event: Y.YTextEvent, transaction: Y.Transaction): void => {
      if (transaction.origin === TITLE_FIELD_ORIGIN || isComposing) return
      const value = text.toString()
      if (document.activeElement !== input) {
        input.value = value
        return
      }
      const delta = event.delta as Parameters<typeof mapPosition>[1]
      const start = mapPosition(input.selectionStart ?? 0, delta)
      const end = mapPosition(input.selectionEnd ?? 0, delta)
      const direction = input.selectionDirection ?? 'none'
      input.value = value
      input.setSelectionRange(start, end, direction)
    }
    text.observe(onChange)
    input.addEventListener('compositionstart', onCompositionStart)
    input.addEventListener('compositionend', onCompositionEnd)
    return () => {
      text.unobserve(onChange)
      input.removeEventListener('compositionstart', onCompositionStart)
      input.removeEventListener('compositionend', onCompositionEnd)
    }
  }, [text])

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>): void => {
    if (event.nativeEvent.isComposing) return
    if (event.key !== 'Enter' && event.key !== 'ArrowDown') return
    event.preventDefault()
    // The editor's contenteditable restores its own selection when focused.
    event.currentTarget
      .closest('.editor-page')
      ?.querySelector<HTMLElement>('[contenteditable="true"]')
      ?.focus()
  }

  return (
    <input
      ref={ref}
      className="header-title title-field"
      data-testid="title-field"
      aria-label="Document title"
      placeholder="Untitled"
      autoComplete="off"
      spellCheck
      maxLength={MAX_TITLE_LENGTH}
      readOnly={!isEditable}
      onInput={(event) => {
        if (!event.nativeEvent.isComposing) applyFieldValue(text, event.currentTarget.value)
      }}
      onKeyDown={onKeyDown}
    />
  )
}

/** The title as text, where nobody edits it (the view link's header, R60). */
export function TitleText({ doc }: { readonly doc: Y.Doc }) {
  const title = useDocumentTitle(doc)
  return (
    <h1 className="header-title title-text" data-testid="title-text" data-untitled={title === ''}>
      {title === '' ? 'Untitled' : title}
    </h1>
  )
}
