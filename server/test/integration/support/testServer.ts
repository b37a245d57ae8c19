import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { parseConfig, type Config } from '../../../src/config.ts'
import { startServer, type RunningServer, type StartOptions } from '../../../src/main.ts'

export interface TestServer extends RunningServer {
  readonly dataDir: string
  readonly config: Config
  readonly wsUrl: string
  /** Stops this server and starts a new one on the same DATA_DIR (new port). */
  restart(): Promise<TestServer>
}

const cleanups: Array<() => Promise<void>> = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * A real server on port 0 with a real LevelDB in a fresh temp dir, torn down after the test
 * (STYLE.md 14).
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: StartOptions & { dataDir?: string } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'tandem-test-')))
  if (!options.dataDir) cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
  const config = parseConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env })
  const running = await startServer(config, options)
  let isClosed = false
  const close = async (): Promise<void> => {
    if (isClosed) return
    isClosed = true
    await running.close()
  }
  cleanups.push(close)
  return {
    ...running,
    close,
    dataDir,
    config,
    wsUrl: running.url.replace('http', 'ws') + '/ws',
    async restart() {
      await close()
      return startTestServer(env, { ...options, dataDir })
    },
  }
}
