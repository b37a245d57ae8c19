import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { createDoc, eventually } from './support/clients.ts'
import { within } from './support/serverProcess.ts'
import { startTestServer } from './support/testServer.ts'

type Line = Record<string, unknown> & { msg: string; level: number }

const INFO = 30
const DEBUG = 20
const BIN = fileURLToPath(new URL('../../src/bin.ts', import.meta.url))
const dirs: string[] = []

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

/** A built client of two files, so static requests are served, not 503. */
async function clientDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tandem-client-'))
  dirs.push(dir)
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>Tandem</title>')
  await writeFile(join(dir, 'app.js'), 'export {}\n')
  return dir
}

async function loggedServer(env: Record<string, string>) {
  const raw: string[] = []
  const server = await startTestServer(
    { CLIENT_DIR: await clientDir(), ...env },
    { logStream: { write: (line) => void raw.push(line) } },
  )
  const lines = (): Line[] => raw.map((line) => JSON.parse(line) as Line)
  return { server, raw, lines }
}

/** Health checks, static files and pages, a long-poll session's requests, and two API requests. */
async function traffic(url: string): Promise<void> {
  for (const path of ['/healthz', '/readyz', '/app.js', '/', '/d/someDocument'])
    expect((await fetch(`${url}${path}`)).status, path).toBe(200)
  const doc = await createDoc(url)
  const opened = await fetch(`${url}/api/docs/${doc.id}/lp?k=${doc.editToken}`, { method: 'POST' })
  const { sessionId } = (await opened.json()) as { sessionId: string }
  await (
    await fetch(`${url}/api/docs/${doc.id}/lp/${sessionId}?k=${doc.editToken}&ack=0&wait=0`)
  ).body?.cancel()
  await fetch(`${url}/api/docs/${doc.id}/lp/${sessionId}?k=${doc.editToken}`, { method: 'DELETE' })
  expect((await fetch(`${url}/api/docs/${doc.id}?k=${doc.viewToken}`)).status).toBe(200)
}

const requestLines = (lines: Line[]): Array<{ level: number; method: string; path: string }> =>
  lines
    .filter((line) => line.msg === 'request completed')
    .map((line) => {
      const req = line.req as { method: string; path: string }
      return { level: line.level, method: req.method, path: req.path }
    })

describe('log lines', () => {
  it('[R68] one line per request; health checks, static files and long polls only at debug', async () => {
    const { server, raw, lines } = await loggedServer({ LOG_LEVEL: 'info' })
    await traffic(server.url)
    await eventually(() =>
      expect(requestLines(lines())).toEqual([
        { level: INFO, method: 'POST', path: '/api/docs' },
        { level: INFO, method: 'GET', path: expect.stringMatching(/^\/api\/docs\/[\w-]+$/) as string },
      ]),
    )
    expect(lines().filter((line) => line.msg === 'incoming request')).toEqual([])
    // One event, one line: every write is a single JSON line.
    for (const line of raw) expect(line.indexOf('\n')).toBe(line.length - 1)
  })

  it('[R68] at debug the routine requests are there, one line each', async () => {
    const { server, lines } = await loggedServer({ LOG_LEVEL: 'debug' })
    await traffic(server.url)
    await eventually(() => expect(requestLines(lines())).toHaveLength(10))
    const debug = requestLines(lines()).filter((line) => line.level === DEBUG)
    expect(debug.map((line) => line.path)).toEqual([
      '/healthz',
      '/readyz',
      '/app.js',
      '/',
      '/d/someDocument',
      expect.stringMatching(/\/lp$/) as string,
      expect.stringMatching(/\/lp\/[^/]+$/) as string,
      expect.stringMatching(/\/lp\/[^/]+$/) as string,
    ])
  })

  it('[R68] shutting down is one line, saying how long it took', async () => {
    const { server, lines } = await loggedServer({ LOG_LEVEL: 'info' })
    await server.close()
    const shutdown = lines().filter((line) => line.msg === 'shut down')
    expect(shutdown).toEqual([
      expect.objectContaining({ level: INFO, durationMs: expect.any(Number) as number }),
    ])
    expect(lines().at(-1)?.msg).toBe('shut down')
  })

  it('[R68] NODE_NAME is on every line', async () => {
    const { server, lines } = await loggedServer({ LOG_LEVEL: 'info', NODE_NAME: 'node7' })
    await createDoc(server.url)
    await eventually(() => expect(requestLines(lines())).toHaveLength(1))
    for (const line of lines()) expect(line.node).toBe('node7')
  })

  it('[R68] in a terminal, one readable line per event instead of JSON', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tandem-tty-'))
    dirs.push(dataDir)
    // util-linux `script` runs the server on a pseudo-terminal: stdout.isTTY, as in `npm start`.
    const child = spawn('script', ['-qefc', `"${process.execPath}" --import tsx "${BIN}"`, '/dev/null'], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    try {
      await within(
        (async () => {
          while (!/open http:\/\/\S+\r?\n/.test(output))
            await new Promise((resolve) => child.stdout.once('data', resolve))
        })(),
        30_000,
        'the server starting on a terminal',
      )
      const url = /open (http:\/\/\S+)\r?\n/.exec(output)?.[1] ?? ''
      await createDoc(url)
      await eventually(() => expect(output).toMatch(/INFO.*request completed/))
    } finally {
      child.kill('SIGTERM')
      await exited
    }
    // eslint-disable-next-line no-control-regex -- colour codes are part of a terminal's line
    const text = output.replace(/\u001b\[[0-9;]*m/g, '')
    const listening = text.split(/\r?\n/).find((line) => line.includes('Server listening at'))
    expect(listening).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Server listening at http:\/\//)
    const request = text.split(/\r?\n/).find((line) => line.includes('request completed'))
    expect(request).toMatch(/INFO: request completed .*"method":"POST","path":"\/api\/docs"/)
    expect(text).not.toContain('"level":')
  }, 60_000)
})
