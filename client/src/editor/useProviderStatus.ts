import { useCallback, useSyncExternalStore } from 'react'
import type { ProviderStatus, SyncProvider } from '../sync/index.ts'

/** The provider's status as React state. The provider replaces the object on every change. */
export function useProviderStatus(provider: SyncProvider): ProviderStatus {
  const subscribe = useCallback((onChange: () => void) => provider.onStatus(onChange), [provider])
  return useSyncExternalStore(subscribe, () => provider.status)
}
