import type { Awareness } from 'y-protocols/awareness'
import { Popover } from '../ui/Popover.tsx'
import { useIsNarrow } from '../ui/useIsNarrow.ts'
import type { Identity } from './identity.ts'
import { readPresence, type PresenceUser } from './presence.ts'
import { useAwareness } from './useAwareness.ts'
import { EyeIcon } from '../ui/EyeIcon.tsx'

interface Props {
  readonly awareness: Awareness
  /** False on the viewer page: a viewer's own caret state is local only, nobody sees it. */
  readonly isSelfListed?: boolean
  /** Given: your own entry is a button that changes your name. */
  readonly onRenameSelf?: () => void
  /** On the viewer page: you, watching under this name, listed first (editors see you as a viewer). */
  readonly viewerSelf?: Identity
}

/**
 * Who is here (SPEC R63): a chip per person on a wide screen; on a phone, "3 here" with the chips
 * in a popover, so the header never overflows. Your own chip changes your name (R58).
 */
export function PresenceList({ awareness, isSelfListed = true, onRenameSelf, viewerSelf }: Props) {
  const isNarrow = useIsNarrow()
  const users = useAwareness(awareness, readPresence).filter((user) => isSelfListed || !user.isSelf)
  const list = (
    <ul className="presence" data-testid="presence-list" aria-label="People here">
      {viewerSelf !== undefined && (
        <li className="presence-user" data-testid="viewer-self" title={`${viewerSelf.name} (you, viewing)`}>
          <SelfButton name={viewerSelf.name} color={null} onRename={onRenameSelf} />
        </li>
      )}
      {users.map((user) => (
        <li
          key={user.clientId}
          className="presence-user"
          data-testid="presence-user"
          data-self={user.isSelf}
          title={user.isSelf ? `${user.name} (you)` : user.name}
        >
          {user.isSelf ? (
            <SelfButton name={user.name} color={user.color} onRename={onRenameSelf} />
          ) : (
            <UserLabel name={user.name} color={user.color} isSelf={false} />
          )}
        </li>
      ))}
    </ul>
  )
  if (!isNarrow) return list
  const count = users.length + (viewerSelf === undefined ? 0 : 1)
  return (
    <Popover
      buttonClassName="header-count"
      buttonTestId="presence-count"
      buttonLabel={`${count} here: show who`}
      button={
        <>
          {users.slice(0, 3).map((user) => (
            <span
              key={user.clientId}
              className="presence-dot"
              style={{ backgroundColor: user.color }}
              aria-hidden="true"
            />
          ))}
          {count} here
        </>
      }
      panelLabel="People here"
    >
      {list}
    </Popover>
  )
}

/** `color` null: a viewer, who has no caret; an eye stands where the colour dot would be. */
function SelfButton({
  name,
  color,
  onRename,
}: {
  name: string
  color: string | null
  onRename?: () => void
}) {
  if (onRename === undefined) return <UserLabel name={name} color={color} isSelf />
  return (
    <button
      type="button"
      className="presence-self"
      data-testid="rename-self"
      aria-label={`${name} (you): change your name`}
      onClick={onRename}
    >
      <UserLabel name={name} color={color} isSelf />
    </button>
  )
}

interface LabelProps extends Pick<PresenceUser, 'name' | 'isSelf'> {
  readonly color: string | null
}

function UserLabel({ name, color, isSelf }: LabelProps) {
  return (
    <>
      {color === null ? (
        <EyeIcon />
      ) : (
        <span className="presence-dot" style={{ backgroundColor: color }} aria-hidden="true" />
      )}
      <span className="presence-name">{name}</span>
      {isSelf && <span className="presence-you">(you)</span>}
    </>
  )
}
