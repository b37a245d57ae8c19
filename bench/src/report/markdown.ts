import { COMPARED_PEERS, bestOf, metric, peerLabel } from './lookup.ts'
import { ratioTable } from './ratios.ts'
import { formatValue, renderBarChart, type BarSeries } from './svg.ts'
import { evaluateTargets } from './targets.ts'
import { SCENARIOS } from '../scenarios/index.ts'
import type { Column, Scenario } from '../scenarios/types.ts'
import type { CaseResult, PeerId, RunResults, ScenarioResult } from '../schema.ts'

/** docs/BENCHMARKS.md and its charts, from a results file: pure, no I/O. */
const COLORS: Record<PeerId, string> = {
  tandem: '#d1495b',
  yws: '#00798c',
  'yws-leveldb': '#66a182',
  hocuspocus: '#edae49',
  'hocuspocus-sqlite': '#8d6a9f',
  relay: '#8a8a8a',
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

/** "100 readers, 200/s" from a case's configuration. */
function caseLabel(config: CaseResult['config']): string {
  const parts: string[] = []
  if (config['rooms'] !== undefined && config['clientsPerRoom'] !== undefined) {
    return `${config['rooms']} rooms of ${config['clientsPerRoom']}`
  }
  for (const [name, value] of Object.entries(config)) {
    switch (name) {
      case 'readers':
        parts.push(`${value} readers`)
        break
      case 'rate':
        parts.push(`${value}/s`)
        break
      case 'connections':
        parts.push(`${Number(value).toLocaleString('en-US')} connections`)
        break
      case 'clientsPerRoom':
        parts.push(`rooms of ${value}`)
        break
      case 'ops':
        parts.push(`${Number(value).toLocaleString('en-US')} ops`)
        break
      case 'join':
      case 'transport':
        parts.push(String(value))
        break
      default:
        parts.push(`${name}=${value}`)
    }
  }
  return parts.join(', ')
}

function limitFlags(result: CaseResult): string {
  const flags: string[] = []
  const failed = result.reps.filter((r) => !r.ok).length
  if (failed > 0) flags.push(`**${failed}/${result.reps.length} failed**`)
  const generator = result.reps.filter((r) => r.ok && r.limits.generator).length
  const machine = result.reps.filter((r) => r.ok && r.limits.machine).length
  if (generator > 0) flags.push(`G${generator}`)
  if (machine > 0) flags.push(`M${machine}`)
  return flags.join(' ')
}

function ratioCell(value: number, reference: number | undefined): string {
  if (reference === undefined || !Number.isFinite(value) || !Number.isFinite(reference) || reference === 0)
    return '–'
  return `${(value / reference).toFixed(2)}×`
}

function scenarioTable(
  run: RunResults,
  scenario: Scenario,
  result: ScenarioResult,
  cases: readonly CaseResult[],
  columns: readonly Column[],
): string {
  const keys = [...new Set(cases.map((c) => c.key))]
  const chartMetric = scenario.chart.metric
  // Ratios only where there is something to compare with (not in the Tandem-only scenario).
  const hasRatios = cases.some((c) => c.peer !== 'tandem')
  const header = [
    'case',
    'server',
    ...columns.map((c) => c.label),
    ...(hasRatios ? [`${chartShort(scenario)} vs best peer`, 'vs relay'] : []),
    'limits',
  ]
  const rows: string[][] = []
  for (const key of keys) {
    const best = bestOf(run, COMPARED_PEERS, result.id, key, chartMetric, scenario.chart.isLowerBetter)
    const relay = metric(run, result.id, 'relay', key, chartMetric)
    for (const c of cases.filter((x) => x.key === key)) {
      const value = c.median?.[chartMetric] ?? NaN
      rows.push([
        caseLabel(c.config),
        peerLabel(run, c.peer),
        ...columns.map((col) => {
          const v = c.median?.[col.metric]
          const text = v === undefined ? '–' : formatValue(v, col.digits)
          return col.metric === 'maxSteadyRate' && c.median?.['isLowerBound'] === 1 && Number.isFinite(v)
            ? `≥ ${text}`
            : text
        }),
        ...(hasRatios
          ? [
              c.peer === best?.peer ? 'best' : ratioCell(value, best?.value),
              c.peer === 'relay' ? '–' : ratioCell(value, Number.isFinite(relay) ? relay : undefined),
            ]
          : []),
        limitFlags(c),
      ])
    }
  }
  return table(header, rows)
}

function chartShort(scenario: Scenario): string {
  return scenario.columns.find((c) => c.metric === scenario.chart.metric)?.label ?? scenario.chart.metric
}

function chartFor(
  run: RunResults,
  scenario: Scenario,
  result: ScenarioResult,
  cases: readonly CaseResult[],
): string {
  const keys = [...new Set(cases.map((c) => c.key))]
  const peers = [...new Set(cases.map((c) => c.peer))]
  const series: BarSeries[] = peers.map((peer) => ({
    name: peerLabel(run, peer),
    color: COLORS[peer],
    values: keys.map(
      (key) => cases.find((c) => c.peer === peer && c.key === key)?.median?.[scenario.chart.metric] ?? NaN,
    ),
    ranges: keys.map((key) => {
      const values = (cases.find((c) => c.peer === peer && c.key === key)?.reps ?? [])
        .filter((r) => r.ok)
        .map((r) => r.metrics[scenario.chart.metric] ?? NaN)
        .filter(Number.isFinite)
      return values.length > 1 ? ([Math.min(...values), Math.max(...values)] as const) : null
    }),
  }))
  const groups = keys.map((key) => caseLabel(cases.find((c) => c.key === key)?.config ?? {}))
  return renderBarChart({
    title: `${result.title}${run.mode === 'quick' ? ' (quick run)' : ''}`,
    yLabel: scenario.chart.label,
    groups,
    series,
    isLog: scenario.chart.label.includes('log scale'),
    note: `${scenario.chart.isLowerBetter ? 'Lower' : 'Higher'} is better. Bars: median of ${run.repetitions} run(s); whiskers: min–max; × = failed or not applicable.`,
  })
}

function tandemSyncWrites(run: RunResults): string {
  const rows = [
    { label: 'SYNC_WRITES=0 (default; scenario 2)', scenario: 'throughput' as const, key: 'ramp' },
    { label: 'SYNC_WRITES=1 (fsync per group commit)', scenario: 'tandem' as const, key: 'sync-writes=1' },
  ].map((row) => {
    const get = (name: string, digits?: number): string =>
      formatValue(metric(run, row.scenario, 'tandem', row.key, name), digits)
    const isBound = metric(run, row.scenario, 'tandem', row.key, 'isLowerBound') === 1
    return [
      row.label,
      `${isBound ? '≥ ' : ''}${get('maxSteadyRate', 0)}`,
      get('serverCpuPct', 0),
      get('p99Ms', 1),
      get('ackP50Ms', 1),
      get('ackP99Ms', 1),
    ]
  })
  return table(
    [
      'Tandem',
      'max steady updates/s',
      'server CPU % @2,000/s',
      'delivery p99 ms @2,000/s',
      'saved-ack p50 ms',
      'saved-ack p99 ms',
    ],
    rows,
  )
}

function section(
  run: RunResults,
  scenario: Scenario,
  result: ScenarioResult,
  index: number,
): { markdown: string; svg: string } {
  const isTandem = result.id === 'tandem'
  const charted = isTandem ? result.cases.filter((c) => c.key.startsWith('transport=')) : result.cases
  const columns = isTandem
    ? scenario.columns.filter((c) => !['maxSteadyRate', 'ackP99Ms'].includes(c.metric))
    : scenario.columns
  const parts = [
    `## ${index}. ${result.title}`,
    scenario.method,
    scenarioTable(run, scenario, result, charted, columns),
  ]
  if (isTandem) parts.push(tandemSyncWrites(run))
  const limited = result.cases.flatMap((c) =>
    c.reps.flatMap((r, i) => [
      ...(r.ok
        ? []
        : [
            `${peerLabel(run, c.peer)}, ${caseLabel(c.config)}, run ${i + 1}: failed: ${(r.error ?? '').split('\n')[0]}`,
          ]),
      ...(r.ok && r.limits.notes.length > 0
        ? [`${peerLabel(run, c.peer)}, ${caseLabel(c.config)}, run ${i + 1}: ${r.limits.notes.join('; ')}`]
        : []),
    ]),
  )
  const notes = [
    ...result.notes,
    ...limited.slice(0, 12),
    ...(limited.length > 12 ? [`… and ${limited.length - 12} more (see the results JSON)`] : []),
  ]
  if (notes.length > 0) parts.push(notes.map((n) => `- ${n}`).join('\n'))
  parts.push(`![${result.title}](bench/${result.id}.svg)`)
  return { markdown: parts.join('\n\n'), svg: chartFor(run, scenario, result, charted) }
}

export function renderMarkdown(
  run: RunResults,
  resultsFile: string,
): { markdown: string; charts: Map<string, string> } {
  const charts = new Map<string, string>()
  const quick = run.mode === 'quick'
  const parts: string[] = [
    '# Benchmarks',
    `<!-- Generated by bench/src/report.ts from ${resultsFile}; do not edit by hand. -->`,
    quick
      ? `> **Quick run** (\`npm run bench:quick\`) of ${run.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${Math.round(run.durationS)} s: ` +
        'one repetition and smaller loads (fewer readers, rooms and connections, a prefix of the trace). It checks the ' +
        'harness end to end; its numbers are not the benchmark. `npm run bench` writes the full report.'
      : `Full run (\`npm run bench\`) of ${run.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${Math.round(run.durationS / 60)} min; ` +
        `medians of ${run.repetitions} repetitions.`,
    ...(Object.keys(run.peerEnv ?? {}).length > 0
      ? [
          `> **Not default configurations:** every server ran with ${Object.entries(run.peerEnv)
            .map(([key, value]) => `\`${key}=${value}\``)
            .join(', ')} (\`--env\`).`,
        ]
      : []),
    '## Targets',
    'Each performance target against its reference, measured in the same run: medians of the repetitions, (min–max) over them.',
    table(
      ['target', 'Tandem', 'reference', 'ratio', 'goal', 'status', 'caveat'],
      evaluateTargets(run).map((t) => [
        t.target,
        t.tandem,
        t.reference,
        t.measured,
        t.goal,
        t.status === 'met' ? '✅ met' : t.status === 'missed' ? '❌ missed' : 'n/a',
        t.caveat,
      ]),
    ),
    '## Tandem against the best peer and the bare relay',
    'Ratio = Tandem ÷ the other (below 1 is better for times, CPU and memory; above 1 is better for rates). Best peer: the best of y-websocket-server and Hocuspocus, in memory or persistent (for the cold join, persistent only).',
    table(
      ['figure', 'Tandem', 'best peer', 'Tandem ÷ best', 'bare relay', 'Tandem ÷ relay'],
      ratioTable(run).map((r) => [r.what, r.tandem, r.bestPeer, r.vsBest, r.relay, r.vsRelay]),
    ),
    '## Machine',
    [
      `- ${run.machine.cores} × ${run.machine.cpuModel}, ${run.machine.memoryGiB} GiB, Linux ${run.machine.kernel}, Node ${run.machine.node}.`,
      `- Load average (1 min) ${run.machine.loadAtStart.toFixed(1)} at the start, ${run.machine.loadAtEnd.toFixed(1)} at the end` +
        (Math.max(run.machine.loadAtStart, run.machine.loadAtEnd) > run.machine.cores
          ? ': **other work was running on the machine; treat every figure as noisy**.'
          : '.'),
      '- Server, load generators and harness share these cores. **G** marks a run where a generator process was saturated or fell behind its schedule (the figure then bounds the generator, not the server), **M** one where every core was busy; the notes under each table say by how much.',
      `- Load generators: ${String((run.scenarios[0]?.params as { workers?: number } | undefined)?.workers ?? '?')} worker processes; CPU of every process from /proc/<pid>/stat, "client CPU" is all generators together, in % of one core.`,
    ].join('\n'),
    '## Servers compared',
    table(
      ['server', 'version', 'what "stored" means'],
      run.peers.map((p) => [p.label, p.version, p.durability]),
    ),
    'Each is started fresh (new process, empty data directory) for every repetition of every scenario, with its default configuration. Tandem runs from this repository (`server/src/bin.ts`, `LOG_LEVEL=warn`, `MAX_CONNECTIONS_PER_IP` raised because all load comes from 127.0.0.1); y-websocket-server from its own `server.js` (`YPERSISTENCE` for LevelDB); Hocuspocus from `bench/src/peers/hocuspocus.mjs`; the relay from `bench/src/peers/relay.mjs`. Every run ends by checking that every replica holds identical text and that a fresh client joining the server gets it too; a run that fails this is reported as failed, never as a number.',
  ]
  SCENARIOS.forEach((scenario, index) => {
    const result = run.scenarios.find((s) => s.id === scenario.id)
    if (!result) return
    const { markdown, svg } = section(run, scenario, result, index + 1)
    parts.push(markdown)
    charts.set(`${scenario.id}.svg`, svg)
  })
  parts.push(
    '## Reproducing',
    [
      '```sh',
      'npm install                 # the product (Tandem runs from the repository)',
      'npm run bench               # full run, ≤ 20 min: installs bench/ (its own package), runs, writes this file',
      'npm run bench:quick         # ≤ 3 min smoke run of the same harness',
      'node --import tsx bench/src/run.ts --full --only fanout,join --peers tandem,relay   # a subset',
      'node --import tsx bench/src/report.ts bench/results/<file>.json                     # re-render a result',
      '```',
    ].join('\n'),
    'Raw results (every repetition, every step) are written to `bench/results/` (not committed).',
  )
  return { markdown: parts.join('\n\n') + '\n', charts }
}
