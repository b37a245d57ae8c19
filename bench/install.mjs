// Installs what `npm run bench` needs, and nothing when it is already there: the root workspaces
// (Tandem runs from the repository, with tsx) and bench/'s own dependencies (its own package and
// lockfile, not a workspace, so peer servers stay out of the product's dependency tree). A marker
// holding the lockfile's hash skips `npm ci` on later runs, which would otherwise rebuild
// better-sqlite3 (compiled from source where its prebuilt binary cannot be downloaded).
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import process from 'node:process'
import { URL, fileURLToPath } from 'node:url'

const benchDir = fileURLToPath(new URL('.', import.meta.url))
const rootDir = join(benchDir, '..')

function npmCi(cwd) {
  const started = Date.now()
  process.stdout.write(`bench: npm ci in ${cwd}\n`)
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd,
    stdio: 'inherit',
    // node-gyp builds with every core (better-sqlite3 is a minute of C++ on one).
    env: { ...process.env, JOBS: process.env.JOBS ?? 'max' },
  })
  if (result.status !== 0) process.exit(result.status ?? 1)
  process.stdout.write(`bench: installed in ${((Date.now() - started) / 1000).toFixed(0)} s\n`)
}

if (!existsSync(join(rootDir, 'node_modules', 'tsx'))) npmCi(rootDir)

const hash = createHash('sha256')
  .update(readFileSync(join(benchDir, 'package.json')))
  .update(readFileSync(join(benchDir, 'package-lock.json')))
  .digest('hex')
const marker = join(benchDir, 'node_modules', '.bench-installed')
if (!existsSync(marker) || readFileSync(marker, 'utf8') !== hash) {
  npmCi(benchDir)
  writeFileSync(marker, hash)
}
