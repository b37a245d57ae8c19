import { useEffect, useMemo, useState } from 'react'
import { secondsUntil } from './statusText.ts'

const TICK_MS = 250

/**
 * Whole seconds left of `period`, counted from when this `period` object first rendered; null
 * without one. The provider makes a new state object per offline spell, so each restarts the count.
 */
export function useCountdown(period: { readonly retryInMs: number } | null): number | null {
  const [now, setNow] = useState(Date.now)
  // Date.now() in a memo: if React ever drops the memo, the deadline moves by a render, no more.
  const deadline = useMemo(() => (period === null ? null : Date.now() + period.retryInMs), [period])

  useEffect(() => {
    if (period === null) return undefined
    const timer = setInterval(() => setNow(Date.now()), TICK_MS)
    return () => clearInterval(timer)
  }, [period])

  if (period === null || deadline === null) return null
  // `now` may predate this period until the first tick.
  return secondsUntil(deadline, Math.max(now, deadline - period.retryInMs))
}
