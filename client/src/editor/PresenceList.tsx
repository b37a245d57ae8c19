import type { Awareness } from 'y-protocols/awareness'
import { readPresence } from './presence.ts'
import { useAwareness } from './useAwareness.ts'

interface Props {
  readonly awareness: Awareness
  /** False on the viewer page: a viewer's own caret state is local only, nobody sees it. */
  readonly isSelfListed?: boolean
}

export function PresenceList({ awareness, isSelfListed = true }: Props) {
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
          <span className="presence-dot" style={{ backgroundColor: user.color }} aria-hidden="true" />
          <span className="presence-name">{user.name}</span>
          {user.isSelf && <span className="presence-you">(you)</span>}
        </li>
      ))}
    </ul>
  )
}
