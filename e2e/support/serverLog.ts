/**
 * What the server logged about connections ending since `sinceMs`, counted by message and code
 * (`connection closed 4001 ×1, …`). Closes are logged at info: run with E2E_SERVER_LOG_LEVEL=info.
 */
export function connectionEnds(log: string, sinceMs: number): string {
  const seen = new Map<string, number>()
  for (const line of log.split('\n')) {
    let entry: unknown
    try {
      entry = JSON.parse(line)
    } catch {
      continue
    }
    if (typeof entry !== 'object' || entry === null) continue
    const { time, msg, code } = entry as { time?: unknown; msg?: unknown; code?: unknown }
    if (typeof time !== 'number' || time < sinceMs || typeof msg !== 'string') continue
    if (!/closed|superseded|dropped|rejected/.test(msg)) continue
    const key = typeof code === 'number' ? `${msg} ${code}` : msg
    seen.set(key, (seen.get(key) ?? 0) + 1)
  }
  return [...seen].map(([key, count]) => `${key} ×${count}`).join(', ') || 'none logged'
}
