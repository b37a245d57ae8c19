import { useId } from 'react'
import { Dialog } from '../../ui/Dialog.tsx'
import { SHORTCUTS, keyLabel, type Shortcut } from './shortcuts.ts'

interface Props {
  readonly onClose: () => void
}

const GROUPS: readonly Shortcut['group'][] = ['Text', 'Paragraphs', 'Editing']

/** Every shortcut of the editor (SPEC R59), opened by Ctrl/⌘+/ or the toolbar. */
export function ShortcutSheet({ onClose }: Props) {
  const id = useId()
  return (
    <Dialog labelledBy={`${id}-title`} onClose={onClose} className="shortcut-sheet" testId="shortcut-sheet">
      <div className="shortcut-sheet-head">
        <h2 id={`${id}-title`}>Keyboard shortcuts</h2>
        <button type="button" className="button button-small" onClick={onClose}>
          Close
        </button>
      </div>
      <div className="shortcut-sheet-groups">
        {GROUPS.map((group) => (
          <section key={group} aria-labelledby={`${id}-${group}`}>
            <h3 id={`${id}-${group}`}>{group}</h3>
            <dl>
              {SHORTCUTS.filter((each) => each.group === group).map((each) => (
                <div key={each.id} className="shortcut-row" data-shortcut={each.id}>
                  <dt>{each.label}</dt>
                  <dd>
                    {each.keys.map((keys, index) => (
                      <span key={keys}>
                        {index > 0 && <span className="muted"> or </span>}
                        <kbd>{keyLabel(keys)}</kbd>
                      </span>
                    ))}
                  </dd>
                </div>
              ))}
            </dl>
          </section>
        ))}
      </div>
    </Dialog>
  )
}
