import { useEffect, useState } from 'react'
import type { Awareness } from 'y-protocols/awareness'
import { readPresence, type PresenceUser } from './presence.ts'

/** Re-reads the awareness on 'change' (who is here, or what they call themselves, changed). */
export function usePresence(awareness: Awareness): PresenceUser[] {
  const [users, setUsers] = useState(() => readPresence(awareness))
  useEffect(() => {
    const onChange = (): void => setUsers(readPresence(awareness))
    onChange()
    awareness.on('change', onChange)
    return () => awareness.off('change', onChange)
  }, [awareness])
  return users
}
