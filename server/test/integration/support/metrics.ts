import { expect } from 'vitest'

/** One scrape of the admin listener's `/metrics`, parsed (Prometheus text format). */
export interface Scrape {
  readonly text: string
  /**
   * The sample's value; labels must match exactly (all of them, in any order). Undefined when
   * absent, so `toBe(0)` fails for a metric that was renamed or never exported.
   */
  value(name: string, labels?: Record<string, string>): number | undefined
}

export async function scrape(metricsUrl: string | null): Promise<Scrape> {
  expect(metricsUrl).not.toBeNull()
  const response = await fetch(String(metricsUrl))
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toContain('text/plain')
  const text = await response.text()
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match) continue
    const [, name = '', labels = '', value = ''] = match
    samples.set(key(name, parseLabels(labels)), Number(value))
  }
  return { text, value: (name, labels = {}) => samples.get(key(name, labels)) }
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const match of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[match[1] ?? ''] = match[2] ?? ''
  return labels
}

function key(name: string, labels: Record<string, string>): string {
  const sorted = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b))
  return `${name}{${sorted.map(([k, v]) => `${k}="${v}"`).join(',')}}`
}
