import type { CaseResult, PeerId, RunResults, ScenarioId } from '../schema.ts'

/** The peers Tandem is compared with (not itself, not the relay floor). */
export const COMPARED_PEERS: readonly PeerId[] = ['yws', 'yws-leveldb', 'hocuspocus', 'hocuspocus-sqlite']
export const IN_MEMORY_PEERS: readonly PeerId[] = ['yws', 'hocuspocus']
export const STORAGE_PEERS: readonly PeerId[] = ['yws-leveldb', 'hocuspocus-sqlite']

export function findCase(
  run: RunResults,
  scenario: ScenarioId,
  peer: PeerId,
  key: string,
): CaseResult | undefined {
  return run.scenarios.find((s) => s.id === scenario)?.cases.find((c) => c.peer === peer && c.key === key)
}

/** The median of a metric over successful repetitions; NaN when missing or every repetition failed. */
export function metric(
  run: RunResults,
  scenario: ScenarioId,
  peer: PeerId,
  key: string,
  name: string,
): number {
  return findCase(run, scenario, peer, key)?.median?.[name] ?? NaN
}

/** Whether any repetition of a case was bounded by the generators or the machine. */
export function isLimited(run: RunResults, scenario: ScenarioId, peer: PeerId, key: string): boolean {
  return findCase(run, scenario, peer, key)?.reps.some((r) => r.limits.generator || r.limits.machine) ?? false
}

export interface Best {
  readonly peer: PeerId
  readonly value: number
}

/** The best of `peers` for a metric; null when none has a value. */
export function bestOf(
  run: RunResults,
  peers: readonly PeerId[],
  scenario: ScenarioId,
  key: string,
  name: string,
  isLowerBetter: boolean,
): Best | null {
  let best: Best | null = null
  for (const peer of peers) {
    const value = metric(run, scenario, peer, key, name)
    if (!Number.isFinite(value)) continue
    if (!best || (isLowerBetter ? value < best.value : value > best.value)) best = { peer, value }
  }
  return best
}

export function peerLabel(run: RunResults, peer: PeerId): string {
  return run.peers.find((p) => p.id === peer)?.label ?? peer
}

/** The largest fan-out case in the run (N, rate): the one the targets speak about. */
export function largestFanout(run: RunResults): { readers: number; rate: number; key: string } | null {
  const params = run.scenarios.find((s) => s.id === 'fanout')?.params as
    { readers?: number[]; rates?: number[] } | undefined
  const readers = Math.max(...(params?.readers ?? []))
  const rate = Math.max(...(params?.rates ?? []))
  if (!Number.isFinite(readers) || !Number.isFinite(rate)) return null
  return { readers, rate, key: `n=${readers},rate=${rate}` }
}
