import type { Awareness } from 'y-protocols/awareness'
import { usePresence } from './usePresence.ts'

export function PresenceList({ awareness }: { awareness: Awareness }) {
  const users = usePresence(awareness)
  return (
    <ul className="presence" data-testid="presence-list" aria-label="People in this document">
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
