import { fileURLToPath } from 'node:url'

/** Where things are, from this file: bench/src/paths.ts. */
export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url))
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const RESULTS_DIR = fileURLToPath(new URL('../results', import.meta.url))
export const CACHE_DIR = fileURLToPath(new URL('../results/cache', import.meta.url))
export const DOCS_DIR = fileURLToPath(new URL('../../docs', import.meta.url))
export const CHARTS_DIR = fileURLToPath(new URL('../../docs/bench', import.meta.url))
/**
 * The editing trace lives beside the repository, in ../shared/data (CC BY 4.0, see its NOTICE), and is
 * never copied in; BENCH_TRACE points elsewhere for a clone that has no shared/ beside it.
 */
export const TRACE_FILE =
  process.env['BENCH_TRACE'] ??
  fileURLToPath(new URL('../../../shared/data/automerge-paper.json.gz', import.meta.url))
export const TANDEM_BIN = fileURLToPath(new URL('../../server/src/bin.ts', import.meta.url))
