import type { Spread } from './model.ts'

/** Markdown helpers of § Cluster. */
export function num(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return '–'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** `median (min–max)` over repetitions; a single value alone. */
export function fmt(spread: Spread, digits = 1): string {
  if (spread.n === 0) return '–'
  if (spread.n === 1 || spread.min === spread.max) return num(spread.median, digits)
  return `${num(spread.median, digits)} (${num(spread.min, digits)}–${num(spread.max, digits)})`
}

export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}
