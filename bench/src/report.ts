/**
 * Turns a results file into docs/BENCHMARKS.md and docs/bench/<scenario>.svg.
 *
 *   node --import tsx bench/src/report.ts [bench/results/<file>.json]   (default: latest.json)
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { clusterBlockOf, withClusterBlock } from './cluster/section.ts'
import { CHARTS_DIR, DOCS_DIR, REPO_ROOT, RESULTS_DIR } from './paths.ts'
import { renderMarkdown } from './report/markdown.ts'
import { SCHEMA, type RunResults } from './schema.ts'

/** Formats with the repository's Prettier settings when Prettier is installed, so `prettier --check` passes. */
async function prettierFormat(markdown: string, file: string): Promise<string> {
  try {
    const prettier = await import('prettier')
    const options = (await prettier.resolveConfig(file)) ?? {}
    return await prettier.format(markdown, { ...options, parser: 'markdown' })
  } catch {
    return markdown
  }
}

export async function writeReport(
  run: RunResults,
  resultsFile = join(RESULTS_DIR, 'latest.json'),
): Promise<string> {
  const schema: string = run.schema
  if (schema !== SCHEMA) throw new Error(`results schema ${schema}, expected ${SCHEMA}`)
  const target = join(DOCS_DIR, 'BENCHMARKS.md')
  const { markdown, charts } = renderMarkdown(run, relative(REPO_ROOT, resultsFile))
  await mkdir(CHARTS_DIR, { recursive: true })
  for (const [name, svg] of charts) await writeFile(join(CHARTS_DIR, name), svg)
  // § Cluster comes from another run (bench/src/cluster/run.ts): kept as it is.
  const cluster = clusterBlockOf(await readFile(target, 'utf8').catch(() => ''))
  await writeFile(
    target,
    await prettierFormat(cluster ? withClusterBlock(markdown, cluster) : markdown, target),
  )
  return target
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2] ?? join(RESULTS_DIR, 'latest.json')
  const run = JSON.parse(await readFile(file, 'utf8')) as RunResults
  console.log(await writeReport(run, file))
}
