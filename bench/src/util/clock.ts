/**
 * Milliseconds on the system's monotonic clock (libuv's hrtime is CLOCK_MONOTONIC on Linux). Every
 * process on the machine reads the same clock, so a time taken in a writer process can be
 * subtracted from one taken in a reader process: this is what makes cross-process latency exact.
 * `performance.now()` would not do: its origin is each process's own start.
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls `condition` every `intervalMs` until it holds; rejects with `what` after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(intervalMs)
  }
}
