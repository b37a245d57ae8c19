import { useEffect, useState } from 'react'
import { fetchDocStatus } from '../api.ts'
import { watchDocStatus, type DocWatch } from './docWatch.ts'

/**
 * A document's live state, refreshed by short polling while mounted (R27). The cleanup aborts the
 * request in flight, so unmounting, or leaving the page, stops all polling.
 */
export function useDocWatch(docId: string, token: string): DocWatch {
  const [watch, setWatch] = useState<DocWatch>({ kind: 'loading' })

  useEffect(
    () =>
      watchDocStatus({
        poll: (etag, signal) => fetchDocStatus(docId, token, { etag, signal }),
        onChange: setWatch,
      }),
    [docId, token],
  )

  return watch
}
