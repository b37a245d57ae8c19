import type { Awareness } from 'y-protocols/awareness'
import { readPresence } from './presence.ts'
import { useAwareness } from './useAwareness.ts'

interface Props {
  readonly awareness: Awareness
  /** False on the viewer page: a viewer's own caret state is local only, nobody sees it. */
  readonly isSelfListed?: boolean
  /** Given: your own entry is a button that changes your name. */
  readonly onRenameSelf?: () => void
}

export function PresenceList({ awareness, isSelfListed = true, onRenameSelf }: Props) {
  const users = useAwareness(awareness, readPresence).filter((user) => isSelfListed || !user.isSelf)
  return (
    <ul className="presence" data-testid="presence-list" aria-label="People editing this document">
      {users.map((user) => (
        <li
          key={user.clientId}
          className="presence-user"
          data-testid="presence-user"
          data-self={user.isSelf}
          title={user.isSelf ? `${user.name} (you)` : user.name}
        >
          {user.isSelf && onRenameSelf ? (
            <button
              type="button"
              className="presence-self"
              data-testid="rename-self"
              aria-label={`${user.name} (you): change your name`}
              onClick={onRenameSelf}
            >
              <UserLabel name={user.name} color={user.color} isSelf />
            </button>
          ) : (
            <UserLabel name={user.name} color={user.color} isSelf={user.isSelf} />
          )}
        </li>
      ))}
    </ul>
  )
}

function UserLabel({ name, color, isSelf }: { name: string; color: string; isSelf: boolean }) {
  return (
    <>
      <span className="presence-dot" style={{ backgroundColor: color }} aria-hidden="true" />
      <span className="presence-name">{name}</span>
      {isSelf && <span className="presence-you">(you)</span>}
    </>
  )
}
