import { useEffect, useState } from 'react'
import type { RetryWait } from '../sync/index.ts'
import { secondsUntil } from './statusText.ts'

const TICK_MS = 250

/**
 * Whole seconds left of `wait` (until its `retryAtMs`); null without one. The provider makes a new
 * wait object per wait, so each restarts the count.
 */
export function useCountdown(wait: Pick<RetryWait, 'retryAtMs' | 'retryInMs'> | null): number | null {
  const [now, setNow] = useState(Date.now)

  useEffect(() => {
    if (wait === null) return undefined
    const timer = setInterval(() => setNow(Date.now()), TICK_MS)
    return () => clearInterval(timer)
  }, [wait])

  if (wait === null) return null
  // `now` may predate this wait until the first tick: never count more than the whole wait.
  return secondsUntil(wait.retryAtMs, Math.max(now, wait.retryAtMs - wait.retryInMs))
}
