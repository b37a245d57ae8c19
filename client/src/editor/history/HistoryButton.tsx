import { HISTORY_PANEL_ID } from './HistoryPanel.tsx'

/** The header's "History" toggle (R62): opens and closes the panel beside the text. */
export function HistoryButton({
  isOpen,
  onToggle,
}: {
  readonly isOpen: boolean
  readonly onToggle: () => void
}) {
  return (
    <button
      type="button"
      className="button button-small history-button"
      data-testid="history-button"
      aria-expanded={isOpen}
      aria-controls={isOpen ? HISTORY_PANEL_ID : undefined}
      onClick={onToggle}
    >
      History
    </button>
  )
}
