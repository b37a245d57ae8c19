import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

/**
 * `npm run build:server [-- --out <dir>]`: the server compiled to JavaScript, what the Docker image
 * runs (SPEC R68). The output keeps the repository's layout, so relative paths (CLIENT_DIR's
 * default) hold there too:
 *
 *   <out>/server/src/bin.js             the entry point: `node <out>/server/src/bin.js`
 *   <out>/shared/src/*.js               @tandem/shared
 *   <out>/client/src/editor/schema.js   @tandem/client/schema, the exporter's schema (R59)
 *
 * Each gets a package.json whose exports name the .js files, and `<out>/node_modules/@tandem/*`
 * links to them: the compiled server must import compiled workspace packages, never their .ts
 * (Node does not run TypeScript from node_modules). Other packages resolve from the node_modules
 * above `<out>`: the repository's, or the image's /app/node_modules.
 */
const root = fileURLToPath(new URL('../../', import.meta.url))
const PACKAGES = ['server', 'shared', 'client'] as const

interface Manifest {
  name: string
  version: string
  type?: string
  exports?: Record<string, string>
  dependencies?: Record<string, string>
}

async function build(out: string): Promise<void> {
  for (const name of PACKAGES) await rm(join(out, name), { recursive: true, force: true })
  await rm(join(out, 'node_modules', '@tandem'), { recursive: true, force: true })
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const compiled = spawnSync(
    process.execPath,
    [tsc, '-p', join(root, 'server/tsconfig.build.json'), '--outDir', out],
    { stdio: 'inherit' },
  )
  if (compiled.status !== 0) throw new Error(`tsc failed (exit ${compiled.status ?? compiled.signal})`)
  for (const name of PACKAGES) {
    const source = JSON.parse(await readFile(join(root, name, 'package.json'), 'utf8')) as Manifest
    // Only the entry points that were compiled: the client's browser code is not.
    const exports = Object.fromEntries(
      Object.entries(source.exports ?? {})
        .map(([path, file]) => [path, file.replace(/\.ts$/, '.js')] as const)
        .filter(([, file]) => existsSync(join(out, name, file))),
    )
    const manifest: Manifest = {
      name: source.name,
      version: source.version,
      type: 'module',
      exports,
      ...(name === 'client' ? {} : { dependencies: source.dependencies }),
    }
    await writeFile(join(out, name, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    const link = join(out, 'node_modules', source.name)
    await mkdir(dirname(link), { recursive: true })
    await symlink(join('..', '..', name), link, 'dir')
  }
}

const { values } = parseArgs({ options: { out: { type: 'string', default: 'dist' } } })
const out = resolve(root, values.out)
await build(out)
console.log(`server built: node ${join(out, 'server/src/bin.js')}`)
