/**
 * § Cluster lives in docs/BENCHMARKS.md between these markers. The cluster run rewrites only what is
 * between them; the main report (bench/src/report.ts), which regenerates the rest of the file,
 * carries them over unchanged.
 */
export const CLUSTER_START = '<!-- cluster:start -->'
export const CLUSTER_END = '<!-- cluster:end -->'

/** The marked block of `markdown`, markers included, or null. */
export function clusterBlockOf(markdown: string): string | null {
  const start = markdown.indexOf(CLUSTER_START)
  const end = markdown.indexOf(CLUSTER_END)
  if (start < 0 || end < start) return null
  return markdown.slice(start, end + CLUSTER_END.length)
}

/** `markdown` with `block` in place of its marked block, or before "## Reproducing", or at the end. */
export function withClusterBlock(markdown: string, block: string): string {
  const existing = clusterBlockOf(markdown)
  if (existing !== null) return markdown.replace(existing, () => block)
  const reproducing = markdown.indexOf('\n## Reproducing')
  if (reproducing >= 0) return `${markdown.slice(0, reproducing)}\n${block}\n${markdown.slice(reproducing)}`
  return `${markdown.trimEnd()}\n\n${block}\n`
}

/** Formats with the repository's Prettier settings when Prettier is installed. */
export async function prettierFormat(markdown: string, file: string): Promise<string> {
  try {
    const prettier = await import('prettier')
    const options = (await prettier.resolveConfig(file)) ?? {}
    return await prettier.format(markdown, { ...options, parser: 'markdown' })
  } catch {
    return markdown
  }
}
