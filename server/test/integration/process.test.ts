import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const BIN = fileURLToPath(new URL('../../src/bin.ts', import.meta.url))
const children: ChildProcess[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

interface Started {
  readonly child: ChildProcess
  readonly url: string
}

function run(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN], {
    env: { ...process.env, LOG_LEVEL: 'silent', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  return child
}

function started(child: ChildProcess): Promise<Started> {
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /open (http:\/\/\S+)/.exec(out)
      if (match?.[1]) resolve({ child, url: match[1] })
    })
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
  })
}

function exited(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })))
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-proc-'))
  dirs.push(dir)
  return dir
}

describe('server process', () => {
  it('[R15] a second server on the same DATA_DIR exits at once with a clear message', async () => {
    const dataDir = await tempDir()
    const first = await started(run({ PORT: '0', DATA_DIR: dataDir }))
    const second = run({ PORT: '0', DATA_DIR: dataDir })
    const result = await exited(second)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('in use by another Tandem process')
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200)
  })

  it('[R14] a bad config value stops the server naming the variable', async () => {
    const result = await exited(run({ PORT: 'eighty', DATA_DIR: await tempDir() }))
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('PORT')
  })

  it('[R6] SIGTERM shuts down cleanly with exit 0', async () => {
    const { child } = await started(run({ PORT: '0', DATA_DIR: await tempDir() }))
    const result = exited(child)
    child.kill('SIGTERM')
    expect((await result).code).toBe(0)
  })
})
