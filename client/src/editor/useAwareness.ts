import { useEffect, useState } from 'react'
import type { Awareness } from 'y-protocols/awareness'

/**
 * `read(awareness)` as React state, re-read on every 'change' (someone came, left, or changed what
 * they announce). `read` must be a stable function, such as a module-level one.
 */
export function useAwareness<T>(awareness: Awareness, read: (awareness: Awareness) => T): T {
  const [value, setValue] = useState(() => read(awareness))
  useEffect(() => {
    const onChange = (): void => setValue(read(awareness))
    onChange()
    awareness.on('change', onChange)
    return () => awareness.off('change', onChange)
  }, [awareness, read])
  return value
}
