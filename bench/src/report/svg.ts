/** A grouped bar chart as a standalone SVG: no dependencies, deterministic output. */
export interface BarSeries {
  readonly name: string
  readonly color: string
  /** One value per group; NaN draws "failed" / "n/a" instead of a bar. */
  readonly values: readonly number[]
  /** Optional spread over repetitions, drawn as a whisker. */
  readonly ranges?: ReadonlyArray<readonly [number, number] | null>
}

export interface BarChart {
  readonly title: string
  readonly yLabel: string
  readonly groups: readonly string[]
  readonly series: readonly BarSeries[]
  readonly isLog: boolean
  readonly note?: string
}

const WIDTH = 860
const PLOT_LEFT = 70
const PLOT_RIGHT = 20
const PLOT_TOP = 50
const PLOT_HEIGHT = 260
const LEGEND_COLUMNS = 3
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function niceLinearMax(max: number): number {
  if (!(max > 0)) return 1
  const magnitude = 10 ** Math.floor(Math.log10(max))
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= max) return step * magnitude
  return 10 * magnitude
}

function formatTick(value: number): string {
  if (value >= 1000) return `${value / 1000}k`
  if (value >= 1) return String(Math.round(value * 100) / 100)
  return value.toPrecision(1)
}

export function renderBarChart(chart: BarChart): string {
  const finite = chart.series
    .flatMap((s) => [...s.values, ...(s.ranges ?? []).flatMap((r) => (r ? [r[1]] : []))])
    .filter((v) => Number.isFinite(v) && v > 0)
  const legendRows = Math.ceil(chart.series.length / LEGEND_COLUMNS)
  const height = PLOT_TOP + PLOT_HEIGHT + 60 + legendRows * 20 + (chart.note ? 20 : 0)
  const plotWidth = WIDTH - PLOT_LEFT - PLOT_RIGHT
  let scale: (value: number) => number
  let ticks: number[]
  if (chart.isLog) {
    const low = Math.floor(Math.log10(Math.min(...finite, 1)))
    const high = Math.ceil(Math.log10(Math.max(...finite, 10)))
    scale = (v) =>
      PLOT_TOP + PLOT_HEIGHT - ((Math.log10(Math.max(v, 10 ** low)) - low) / (high - low)) * PLOT_HEIGHT
    ticks = Array.from({ length: high - low + 1 }, (_, i) => 10 ** (low + i))
  } else {
    const top = niceLinearMax(Math.max(...finite, 0))
    scale = (v) => PLOT_TOP + PLOT_HEIGHT - (v / top) * PLOT_HEIGHT
    ticks = Array.from({ length: 6 }, (_, i) => (top * i) / 5)
  }
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT} font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(chart.title)}</text>`,
    `<text x="16" y="${PLOT_TOP + PLOT_HEIGHT / 2}" transform="rotate(-90 16 ${PLOT_TOP + PLOT_HEIGHT / 2})" text-anchor="middle" fill="#444">${escapeXml(chart.yLabel)}</text>`,
  )
  for (const tick of ticks) {
    const y = scale(tick).toFixed(1)
    out.push(
      `<line x1="${PLOT_LEFT}" x2="${WIDTH - PLOT_RIGHT}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${PLOT_LEFT - 6}" y="${y}" dy="4" text-anchor="end" fill="#555">${formatTick(tick)}</text>`,
    )
  }
  const groupWidth = plotWidth / Math.max(1, chart.groups.length)
  const barWidth = Math.min(36, (groupWidth * 0.8) / Math.max(1, chart.series.length))
  chart.groups.forEach((group, g) => {
    const groupLeft = PLOT_LEFT + g * groupWidth + (groupWidth - barWidth * chart.series.length) / 2
    chart.series.forEach((series, s) => {
      const value = series.values[g] ?? NaN
      const x = groupLeft + s * barWidth
      if (!Number.isFinite(value)) {
        out.push(
          `<text x="${(x + barWidth / 2).toFixed(1)}" y="${PLOT_TOP + PLOT_HEIGHT - 4}" text-anchor="middle" fill="${series.color}" font-size="11">×</text>`,
        )
        return
      }
      const y = scale(value)
      out.push(
        `<rect x="${(x + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(PLOT_TOP + PLOT_HEIGHT - y).toFixed(1)}" fill="${series.color}"><title>${escapeXml(`${series.name}, ${group}: ${formatValue(value)}`)}</title></rect>`,
      )
      const range = series.ranges?.[g]
      if (range && range[1] > range[0]) {
        const cx = (x + barWidth / 2).toFixed(1)
        out.push(
          `<line x1="${cx}" x2="${cx}" y1="${scale(range[0]).toFixed(1)}" y2="${scale(range[1]).toFixed(1)}" stroke="#222" stroke-width="1"/>`,
        )
      }
    })
    out.push(
      `<text x="${(PLOT_LEFT + (g + 0.5) * groupWidth).toFixed(1)}" y="${PLOT_TOP + PLOT_HEIGHT + 18}" text-anchor="middle" fill="#222">${escapeXml(group)}</text>`,
    )
  })
  out.push(
    `<line x1="${PLOT_LEFT}" x2="${WIDTH - PLOT_RIGHT}" y1="${PLOT_TOP + PLOT_HEIGHT}" y2="${PLOT_TOP + PLOT_HEIGHT}" stroke="#888"/>`,
  )
  chart.series.forEach((series, s) => {
    const x = PLOT_LEFT + (s % LEGEND_COLUMNS) * 260
    const y = PLOT_TOP + PLOT_HEIGHT + 42 + Math.floor(s / LEGEND_COLUMNS) * 20
    out.push(
      `<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${series.color}"/>`,
      `<text x="${x + 18}" y="${y}" fill="#222">${escapeXml(series.name)}</text>`,
    )
  })
  if (chart.note) {
    out.push(
      `<text x="${PLOT_LEFT}" y="${height - 8}" fill="#666" font-size="11">${escapeXml(chart.note)}</text>`,
    )
  }
  out.push('</svg>')
  return out.join('\n') + '\n'
}

export function formatValue(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return '–'
  const places = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2)
  return value.toLocaleString('en-US', { minimumFractionDigits: places, maximumFractionDigits: places })
}
