/**
 * What three hostile inputs cost a Tandem server (not part of the suite), so a fix can be reported
 * with before and after figures. Each repetition starts a fresh server (own process, empty data
 * directory) from `--root`, which may be an older checkout (a `git worktree` with node_modules):
 *
 *   1. root-names   one update naming 32,000 root types (refused with 4422)
 *   2. clock-gaps   N small updates that each miss a dependency (they wait), then 200 edits by
 *                   another editor of the same document
 *   3. big-string   one update inserting an 8 MiB string into the editor's fragment: a string of
 *                   exactly 8 MiB makes a frame above MAX_MESSAGE_BYTES (8 MiB, refused with
 *                   1009), so the largest that fits is measured too, in ASCII and in 2-byte UTF-8
 *
 * Server CPU comes from /proc/<pid>/stat (and, finer than its 10 ms ticks, the sum of every
 * thread's /proc/<pid>/task/<tid>/schedstat); memory from VmRSS / VmHWM and, after a full GC,
 * process.memoryUsage() over IPC (peers/preload.mjs). A probe (a writer and a reader of another
 * document, in a load worker, one edit every 10 ms) measures how long the attack stalls everyone
 * else: send → broadcast received, on the machine-wide monotonic clock.
 *
 *   node --import tsx bench/src/extra/hostile-costs.ts [--root <repo>] [--reps 3] [--only 1,2,3]
 *     [--out <file.json>] [--server-arg <node flag>]... [--server-log <file>]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WorkerPool } from '../load/pool.ts'
import type { ClientSpec, SentTimes } from '../load/spec.ts'
import { REPO_ROOT } from '../paths.ts'
import { PEERS } from '../peers/peers.ts'
import { decodeMessage, encodeStep1, encodeUpdate } from '../protocol/messages.ts'
import { nowMs, sleep, waitUntil } from '../util/clock.ts'
import { CORES, processCpuMs, processRssBytes, startCpuWindow } from '../util/proc.ts'
import { median, summarize } from '../util/stats.ts'

const PRELOAD = fileURLToPath(new URL('../peers/preload.mjs', import.meta.url))
/**
 * Beside preload.mjs (whose answer comes after a full GC): process.memoryUsage() as it is, garbage
 * included, to tell where a transient peak sits (V8 heap, ArrayBuffers, or native memory).
 */
const PEEK_PRELOAD = `data:text/javascript,${encodeURIComponent(
  "import process from 'node:process';" +
    "process.on('message', (m) => { if (m?.type === 'hostile:memory') process.send?.({ type: m.type, ...process.memoryUsage() }) });" +
    'process.channel?.unref();',
)}`
/** The server's MAX_MESSAGE_BYTES default (server/src/config.ts): larger frames close with 1009. */
const MAX_MESSAGE_BYTES = 8 * 1024 * 1024
/** Tandem's client keeps the document in this XmlFragment (shared/src/docId.ts DOC_FRAGMENT). */
const DOC_FRAGMENT = 'default'
const MESSAGE_PING = 102
const MESSAGE_PONG = 103
const PROBE_RATE_PER_S = 100
const PROBE_CHUNK_MS = 250
const BASELINE_MS = 1_000
const ROOT_NAMES = 32_000
const GAP_COUNTS = [0, 1_000, 2_000, 20_000] as const
/** A ping after every so many gapped updates: its pong says how many the server had read. */
const PING_EVERY = 50
const TYPED_EDITS = 200
const TYPING_RATE_PER_S = 50
const RSS_SAMPLE_MS = 5
const AFTER_ACK_MS = 2_000
const TIMEOUT_MS = 180_000

type Metrics = Record<string, number | string>

// ---------------------------------------------------------------------------------------------
// The server under test, started from any checkout (PeerProcess always runs this repository's).

class Server {
  readonly #lines: string[] = []

  private constructor(
    readonly child: ChildProcess,
    readonly dataDir: string,
    readonly httpUrl: string,
  ) {}

  /** `logFile`: every line the server prints is appended there too (with --trace-gc, say). */
  static async start(root: string, nodeArgs: readonly string[], logFile?: string): Promise<Server> {
    const dataDir = await mkdtemp(join(tmpdir(), 'hostile-tandem-'))
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        PRELOAD,
        '--import',
        PEEK_PRELOAD,
        ...nodeArgs,
        '--import',
        'tsx',
        join(root, 'server/src/bin.ts'),
      ],
      {
        cwd: root,
        // The bench's own settings for Tandem (port 0: the server picks one and prints it).
        env: {
          PATH: process.env['PATH'] ?? '/usr/bin:/bin',
          HOME: process.env['HOME'] ?? '/tmp',
          ...PEERS.tandem.env(0, dataDir),
        },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    )
    const lines: string[] = []
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start within 30 s:\n${lines.join('\n')}`)), 30_000)
      const onData = (chunk: Buffer): void => {
        if (logFile) appendFileSync(logFile, chunk)
        lines.push(...chunk.toString().split('\n').filter(Boolean))
        const match = /Tandem is running: open (http:\/\/\S+)/.exec(chunk.toString())
        if (match?.[1]) {
          clearTimeout(timer)
          resolveUrl(match[1])
        }
      }
      child.stdout?.on('data', onData)
      child.stderr?.on('data', onData)
      child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${lines.join('\n')}`)))
    })
    child.stdout?.removeAllListeners('data')
    child.stderr?.removeAllListeners('data')
    const server = new Server(child, dataDir, url)
    server.#lines.push(...lines)
    // Always drained: a full pipe would block the server.
    const keep = (chunk: Buffer): void => {
      if (logFile) appendFileSync(logFile, chunk)
      server.#lines.push(...chunk.toString().split('\n').filter(Boolean))
      if (server.#lines.length > 1_000) server.#lines.splice(0, 500)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    return server
  }

  get pid(): number {
    return this.child.pid ?? -1
  }

  get wsUrl(): string {
    return this.httpUrl.replace(/^http/, 'ws')
  }

  /** The `detail` of every 'input rejected' log line (SPEC R52) so far. */
  rejections(): string[] {
    const details: string[] = []
    for (const line of this.#lines) {
      try {
        const entry = JSON.parse(line) as { msg?: string; detail?: string; code?: number }
        if (entry.msg === 'input rejected') details.push(`${entry.code ?? '?'} ${entry.detail ?? ''}`)
      } catch {
        // Not a log line.
      }
    }
    return details
  }

  /** process.memoryUsage() after two full GCs (preload.mjs, over IPC), or with `peek` as it is. */
  memory(peek = false): Promise<NodeJS.MemoryUsage> {
    const type = peek ? 'hostile:memory' : 'bench:memory'
    return new Promise((resolveMemory, reject) => {
      const timer = setTimeout(() => reject(new Error('no memory answer')), 60_000)
      const onMessage = (message: { type?: string } & NodeJS.MemoryUsage): void => {
        if (message.type !== type) return
        clearTimeout(timer)
        this.child.off('message', onMessage)
        resolveMemory(message)
      }
      this.child.on('message', onMessage)
      this.child.send({ type })
    })
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((done) => this.child.once('exit', () => done()))
      this.child.kill('SIGTERM')
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    await rm(this.dataDir, { recursive: true, force: true })
  }
}

/** CPU of every thread of a process, from schedstat (ns): finer than /proc/<pid>/stat's ticks. */
function threadsCpuMs(pid: number): number {
  let ns = 0
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    }
  } catch {
    return NaN
  }
  return ns / 1e6
}

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(match?.[1] ?? NaN)
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false where not allowed. */
function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

interface CpuMark {
  readonly statMs: number
  readonly schedMs: number
}

const cpuMark = (pid: number): CpuMark => ({ statMs: processCpuMs(pid), schedMs: threadsCpuMs(pid) })
const cpuSince = (pid: number, mark: CpuMark): CpuMark => ({
  statMs: processCpuMs(pid) - mark.statMs,
  schedMs: threadsCpuMs(pid) - mark.schedMs,
})

// ---------------------------------------------------------------------------------------------
// Documents and clients.

interface Doc {
  readonly key: string
  readonly docName: string
  readonly editToken: string
}

/** A document over REST (PROTOCOL.md §3), as peers/rooms.ts does for a PeerProcess. */
async function createDoc(server: Server, key: string): Promise<Doc> {
  const response = await fetch(`${server.httpUrl}/api/docs`, { method: 'POST' })
  if (response.status !== 201) throw new Error(`POST /api/docs: HTTP ${response.status}`)
  const doc = (await response.json()) as { id: string; editToken: string }
  return { key, docName: doc.id, editToken: doc.editToken }
}

const editorUrl = (server: Server, doc: Doc): string =>
  `${server.wsUrl}/ws/${doc.docName}?k=${encodeURIComponent(doc.editToken)}&ack=1`

/** A load-worker client (the bench's Session over WebSocket) of `doc`, with saved acks. */
function workerClient(server: Server, doc: Doc, id: string, isWriter: boolean): ClientSpec {
  return {
    id,
    room: doc.key,
    transport: 'ws',
    dialect: 'tandem',
    url: editorUrl(server, doc),
    docName: doc.docName,
    token: doc.editToken,
    isWriter,
    replica: 'light',
    requestsState: true,
    answersStep1: true,
  }
}

async function openClients(pool: WorkerPool, worker: number, clients: ClientSpec[]): Promise<void> {
  const answer = await pool.call(worker, {
    op: 'open',
    clients,
    concurrency: clients.length,
    timeoutMs: 30_000,
  })
  if (answer.failures.length > 0) throw new Error(`clients failed to join: ${answer.failures.join('; ')}`)
}

/**
 * The attacker: raw frames on a WebSocket, so nothing on this side validates or reshapes what is
 * sent. Records, on the shared monotonic clock, when each saved ack, pong and the close arrived.
 */
class RawEditor {
  #sentSeq = 0
  savedSeq = 0
  lastPong = 0
  lastPongAt = NaN
  closed: { code: number; reason: string; at: number } | null = null
  readonly #savedAt = new Map<number, number>()
  #isSynced = false

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) =>
      this.#message(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
    )
    ws.on('close', (code, reason) => (this.closed ??= { code, reason: reason.toString(), at: nowMs() }))
    ws.on('error', () => undefined)
  }

  static async connect(url: string): Promise<RawEditor> {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    const editor = new RawEditor(ws)
    await new Promise<void>((done, reject) => {
      ws.once('open', () => done())
      ws.once('error', reject)
    })
    ws.send(encodeStep1(new Uint8Array([0])))
    await waitUntil(() => editor.#isSynced || editor.closed !== null, 30_000, 'attacker synced', 1)
    return editor
  }

  /** Sends one sync update; returns its seq (PROTOCOL.md §1.3). */
  sendUpdate(update: Uint8Array): number {
    this.ws.send(encodeUpdate(update))
    return ++this.#sentSeq
  }

  /** Sends an already framed sync update (same seq counting). */
  sendFrame(frame: Uint8Array): number {
    this.ws.send(frame)
    return ++this.#sentSeq
  }

  ping(nonce: number): void {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, MESSAGE_PING)
    encoding.writeVarUint(encoder, nonce)
    this.ws.send(encoding.toUint8Array(encoder))
  }

  savedAt(seq: number): number {
    return this.#savedAt.get(seq) ?? NaN
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.terminate()
  }

  #message(bytes: Uint8Array): void {
    const now = nowMs()
    const decoder = decoding.createDecoder(bytes)
    if (decoding.readVarUint(decoder) === MESSAGE_PONG) {
      this.lastPong = decoding.readVarUint(decoder)
      this.lastPongAt = now
      return
    }
    const message = decodeMessage(bytes, false)
    if (message.kind === 'sync-step2') this.#isSynced = true
    if (message.kind === 'saved') {
      for (let seq = this.savedSeq + 1; seq <= message.seq; seq++) this.#savedAt.set(seq, now)
      this.savedSeq = Math.max(this.savedSeq, message.seq)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The probe: a writer and a reader of another document, one edit every 10 ms.

interface Sample {
  /** When the edit was made (shared monotonic clock). */
  readonly at: number
  /** Send → broadcast received by the reader. */
  readonly latencyMs: number
}

interface ProbeResult {
  readonly samples: Sample[]
  readonly missing: number
  readonly ackMaxMs: number
}

class Probe {
  readonly #chunks: SentTimes[] = []
  #isStopping = false
  #loop: Promise<void> | null = null

  constructor(
    private readonly pool: WorkerPool,
    private readonly worker: number,
    private readonly writerId: string,
  ) {}

  start(): void {
    this.#isStopping = false
    this.#chunks.length = 0
    this.#loop = this.#run()
  }

  async #run(): Promise<void> {
    while (!this.#isStopping) {
      const answer = await this.pool.call(this.worker, {
        op: 'write',
        writers: [this.writerId],
        rate: PROBE_RATE_PER_S,
        durationMs: PROBE_CHUNK_MS,
      })
      this.#chunks.push(...answer.sentTimes)
    }
  }

  /** Stops writing, waits until the reader has every edit, and pairs each edit with its latency. */
  async stop(): Promise<ProbeResult> {
    this.#isStopping = true
    await this.#loop
    const expected = await this.pool.call(this.worker, { op: 'writerClocks' })
    const delivered = await this.pool.call(this.worker, { op: 'await', expected, timeoutMs: TIMEOUT_MS })
    if (!delivered.ok) throw new Error(`probe edits not delivered: ${delivered.lagging.join('; ')}`)
    const samples: Sample[] = []
    let missing = 0
    for (const chunk of this.#chunks) {
      const answer = await this.pool.call(this.worker, { op: 'latencies', sent: [chunk] })
      missing += answer.missing
      // With nothing missing, the k-th latency is the k-th edit's; otherwise only the chunk is known.
      answer.latencies.forEach((latencyMs, k) =>
        samples.push({ at: (answer.missing === 0 ? chunk.times[k] : chunk.times[0]) ?? NaN, latencyMs }),
      )
    }
    const acks = await this.pool.call(this.worker, { op: 'acks' })
    return { samples, missing, ackMaxMs: acks.length > 0 ? Math.max(...acks) : NaN }
  }
}

function window(samples: readonly Sample[], from: number, to: number): number[] {
  return samples.filter((sample) => sample.at >= from && sample.at <= to).map((sample) => sample.latencyMs)
}

const maxOf = (values: readonly number[]): number => (values.length > 0 ? Math.max(...values) : NaN)

/** Probe figures: before `attackAt` (baseline) and during [attackAt, endAt]. */
function probeMetrics(result: ProbeResult, attackAt: number, endAt: number, prefix = 'probe'): Metrics {
  // An edit made just before the attack is read after it: it belongs to the stall.
  const slackMs = 1000 / PROBE_RATE_PER_S
  const baseline = summarize(window(result.samples, -Infinity, attackAt - slackMs))
  const during = window(result.samples, attackAt - slackMs, endAt)
  return {
    [`${prefix}BaselineP50Ms`]: baseline.p50Ms,
    [`${prefix}BaselineMaxMs`]: baseline.maxMs,
    [`${prefix}StallMaxMs`]: maxOf(during),
    [`${prefix}StallEdits`]: during.length,
  }
}

// ---------------------------------------------------------------------------------------------
// The hostile inputs.

function rootNamesUpdate(count: number): Uint8Array {
  const doc = new Y.Doc()
  doc.transact(() => {
    for (let i = 0; i < count; i++) doc.getMap(`r${i}`).set('k', 1)
  })
  return Y.encodeStateAsUpdate(doc)
}

/**
 * `count` one-character inserts of one client, each its own update, without the first: every
 * update continues a clock the server never reaches, so each is valid but waits (R31).
 */
function gapUpdates(count: number): Uint8Array[] {
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (update: Uint8Array) => updates.push(update))
  const text = doc.getText('t')
  for (let i = 0; i <= count; i++) text.insert(i, 'x')
  doc.destroy()
  return updates.slice(1)
}

/** A paragraph holding `text` in the editor's fragment, as y-prosemirror writes it. */
function paragraphUpdate(text: string): Uint8Array {
  const doc = new Y.Doc()
  // Fixed: a random id's varint length would change the frame's size from one build to the next.
  doc.clientID = 0x5eed
  const paragraph = new Y.XmlElement('paragraph')
  doc.getXmlFragment(DOC_FRAGMENT).insert(0, [paragraph])
  paragraph.insert(0, [new Y.XmlText(text)])
  const update = Y.encodeStateAsUpdate(doc)
  doc.destroy()
  return update
}

/** The largest string of `unit` (padded with 'a') whose sync-update frame is exactly MAX_MESSAGE_BYTES. */
function fittingText(unit: string): string {
  const unitBytes = Buffer.byteLength(unit)
  const probeBytes = MAX_MESSAGE_BYTES - 1024
  const overhead = encodeUpdate(paragraphUpdate('a'.repeat(probeBytes))).byteLength - probeBytes
  const bytes = MAX_MESSAGE_BYTES - overhead
  const text = unit.repeat(Math.floor(bytes / unitBytes)) + 'a'.repeat(bytes % unitBytes)
  const frameBytes = encodeUpdate(paragraphUpdate(text)).byteLength
  if (frameBytes !== MAX_MESSAGE_BYTES) throw new Error(`fitting frame is ${frameBytes} bytes`)
  return text
}

// ---------------------------------------------------------------------------------------------
// Scenarios. Each returns the metrics of one repetition on a fresh server.

interface Context {
  readonly root: string
  readonly serverArgs: readonly string[]
  readonly serverLog: string | undefined
  readonly pool: WorkerPool
  readonly log: (line: string) => void
}

async function withServer(context: Context, run: (server: Server) => Promise<Metrics>): Promise<Metrics> {
  const server = await Server.start(context.root, context.serverArgs, context.serverLog)
  const cpu = startCpuWindow(server.pid, context.pool.pids)
  try {
    const metrics = await run(server)
    const usage = cpu.stop()
    // Work on the machine that was neither the server, the workers nor this process.
    return { ...metrics, otherLoadPctOfCore: usage.foreignPct, loadavg1: loadavg()[0] ?? NaN }
  } finally {
    await context.pool.all({ op: 'close' })
    await server.stop()
  }
}

async function rootNames(context: Context, update: Uint8Array): Promise<Metrics> {
  return withServer(context, async (server) => {
    const { pool } = context
    const probeDoc = await createDoc(server, 'probe')
    await openClients(pool, 0, [
      workerClient(server, probeDoc, 'pw', true),
      workerClient(server, probeDoc, 'pr', false),
    ])
    const probe = new Probe(pool, 0, 'pw')
    // Warm the normal paths, then attack a quiet server: its CPU is the attack's alone.
    probe.start()
    await sleep(BASELINE_MS)
    await probe.stop()
    await sleep(300)
    // The first refusal runs code nothing has run yet (decoding maps, the reject path); a real
    // attacker sends more than one, so the second, warm one is reported beside it.
    const cold = await attackOnce(server, await createDoc(server, 'cold'), update)
    await sleep(300)
    const quiet = await attackOnce(server, await createDoc(server, 'quiet'), update)
    // Again on another document while the probe writes: the stall everyone else sees.
    probe.start()
    await sleep(BASELINE_MS)
    const loaded = await attackOnce(server, await createDoc(server, 'loaded'), update)
    await sleep(500)
    const probed = await probe.stop()
    return {
      closeCode: quiet.code,
      coldSendToCloseMs: cold.closeMs,
      coldServerCpuToCloseMs: cold.cpuToClose.statMs,
      coldServerCpuToCloseSchedMs: cold.cpuToClose.schedMs,
      sendToCloseMs: quiet.closeMs,
      serverCpuToCloseMs: quiet.cpuToClose.statMs,
      serverCpuToCloseSchedMs: quiet.cpuToClose.schedMs,
      serverCpuTo500MsAfterMs: quiet.cpuAfter.statMs,
      serverCpuTo500MsAfterSchedMs: quiet.cpuAfter.schedMs,
      sendToCloseUnderProbeMs: loaded.closeMs,
      ...probeMetrics(probed, loaded.sentAt, loaded.sentAt + loaded.closeMs),
      probeAckMaxMs: probed.ackMaxMs,
      probeMissing: probed.missing,
      rejection: server.rejections().join(' | '),
    }
  })
}

async function attackOnce(server: Server, doc: Doc, update: Uint8Array) {
  const attacker = await RawEditor.connect(editorUrl(server, doc))
  const frame = encodeUpdate(update)
  await sleep(100)
  const mark = cpuMark(server.pid)
  const sentAt = nowMs()
  attacker.sendFrame(frame)
  await waitUntil(() => attacker.closed !== null, TIMEOUT_MS, 'the server to close the attacker', 1)
  const cpuToClose = cpuSince(server.pid, mark)
  await sleep(500)
  const cpuAfter = cpuSince(server.pid, mark)
  const closed = attacker.closed ?? { code: NaN, at: NaN }
  return { code: closed.code, closeMs: closed.at - sentAt, sentAt, cpuToClose, cpuAfter }
}

async function clockGaps(context: Context, updates: readonly Uint8Array[]): Promise<Metrics> {
  return withServer(context, async (server) => {
    const { pool } = context
    const probeDoc = await createDoc(server, 'probe')
    const target = await createDoc(server, 'target')
    await openClients(pool, 0, [
      workerClient(server, probeDoc, 'pw', true),
      workerClient(server, probeDoc, 'pr', false),
    ])
    await openClients(pool, 1, [
      workerClient(server, target, 'typist', true),
      workerClient(server, target, 'tr', false),
    ])
    const attacker = await RawEditor.connect(editorUrl(server, target))
    const probe = new Probe(pool, 0, 'pw')
    probe.start()
    await sleep(BASELINE_MS / 4)
    // The probe's own cost, to take out of the attack's CPU.
    const baseMark = cpuMark(server.pid)
    const baseAt = nowMs()
    await sleep(BASELINE_MS)
    const base = cpuSince(server.pid, baseMark)
    const baseRate = { statMs: base.statMs / (nowMs() - baseAt), schedMs: base.schedMs / (nowMs() - baseAt) }

    const frames = updates.map(encodeUpdate)
    const mark = cpuMark(server.pid)
    const sentAt = nowMs()
    for (let i = 0; i < frames.length; i++) {
      attacker.sendFrame(frames[i] as Uint8Array)
      if ((i + 1) % PING_EVERY === 0 || i === frames.length - 1) attacker.ping(i + 1)
    }
    await waitUntil(
      () => attacker.closed !== null || attacker.lastPong === frames.length,
      TIMEOUT_MS,
      'the server to read every gapped update',
      1,
    )
    const readAt = attacker.closed?.at ?? attacker.lastPongAt
    const readMs = frames.length > 0 ? readAt - sentAt : 0
    const sendCpu = cpuSince(server.pid, mark)

    const typingMark = cpuMark(server.pid)
    const typingAt = nowMs()
    const typed = await pool.call(1, {
      op: 'write',
      writers: ['typist'],
      rate: TYPING_RATE_PER_S,
      durationMs: (TYPED_EDITS * 1000) / TYPING_RATE_PER_S,
    })
    const typingEndAt = nowMs()
    const expected = await pool.call(1, { op: 'writerClocks' })
    const delivered = await pool.call(1, { op: 'await', expected, timeoutMs: TIMEOUT_MS })
    if (!delivered.ok) throw new Error(`typed edits not delivered: ${delivered.lagging.join('; ')}`)
    const typingCpu = cpuSince(server.pid, typingMark)
    await sleep(200)
    const probed = await probe.stop()
    const typing = await pool.call(1, { op: 'latencies', sent: typed.sentTimes })
    const typingLatency = summarize(typing.latencies)
    const typingAcks = summarize(await pool.call(1, { op: 'acks' }))
    const closed = attacker.closed
    attacker.close()
    return {
      sent: frames.length,
      refused: closed ? `${closed.code} ${closed.reason}` : 'no',
      // Pongs answer in order: the last before the close bounds how many updates were read.
      readBeforeClose: closed ? attacker.lastPong : frames.length,
      sendToReadOrCloseMs: readMs,
      serverCpuSendMs: sendCpu.statMs,
      serverCpuSendNetMs: sendCpu.statMs - baseRate.statMs * readMs,
      serverCpuSendSchedNetMs: sendCpu.schedMs - baseRate.schedMs * readMs,
      typedEdits: typed.sent,
      typingP50Ms: typingLatency.p50Ms,
      typingP99Ms: typingLatency.p99Ms,
      typingMaxMs: typingLatency.maxMs,
      typingMissing: typing.missing,
      typingAckP50Ms: typingAcks.p50Ms,
      typingAckP99Ms: typingAcks.p99Ms,
      serverCpuTypingMs: typingCpu.statMs,
      ...probeMetrics(probed, sentAt, sentAt + readMs, 'probeSend'),
      probeTypingStallMaxMs: maxOf(window(probed.samples, typingAt, typingEndAt)),
      probeAckMaxMs: probed.ackMaxMs,
      rejection: server.rejections().join(' | '),
    }
  })
}

async function bigString(context: Context, update: Uint8Array): Promise<Metrics> {
  return withServer(context, async (server) => {
    const { pool } = context
    const target = await createDoc(server, 'target')
    await openClients(pool, 1, [workerClient(server, target, 'reader', false)])
    const attacker = await RawEditor.connect(editorUrl(server, target))
    const frame = encodeUpdate(update)
    const memoryBefore = await server.memory()
    await sleep(300)
    const pid = server.pid
    const rssBeforeKiB = statusKiB(pid, 'VmRSS')
    const isPeakReset = resetPeakRss(pid)
    const hwmBeforeKiB = statusKiB(pid, 'VmHWM')
    let sampledMaxKiB = rssBeforeKiB
    let sampledMaxAt = NaN
    const sampler = setInterval(() => {
      const rss = processRssBytes(pid) / 1024
      if (rss > sampledMaxKiB) {
        sampledMaxKiB = rss
        sampledMaxAt = nowMs()
      }
    }, RSS_SAMPLE_MS)
    const peekBefore = await server.memory(true)
    const mark = cpuMark(pid)
    const sentAt = nowMs()
    const seq = attacker.sendFrame(frame)
    await waitUntil(
      () => attacker.savedSeq >= seq || attacker.closed !== null,
      TIMEOUT_MS,
      'the saved ack or a close',
      1,
    )
    const ackAt = attacker.closed ? attacker.closed.at : attacker.savedAt(seq)
    const cpuToAck = cpuSince(pid, mark)
    // Right after the ack, before any full GC: what the garbage of the update is made of.
    const peekAtAck = await server.memory(true)
    await sleep(AFTER_ACK_MS)
    clearInterval(sampler)
    const cpuAfter = cpuSince(pid, mark)
    const hwmAfterKiB = statusKiB(pid, 'VmHWM')
    const rssAfterKiB = statusKiB(pid, 'VmRSS')
    const memoryAfter = await server.memory()
    const failures = (await pool.call(1, { op: 'failures' })).join('; ')
    const closed = attacker.closed
    attacker.close()
    const mib = (kib: number): number => kib / 1024
    const mibOf = (bytes: number): number => bytes / 2 ** 20
    return {
      frameBytes: frame.byteLength,
      outcome: closed ? `closed ${closed.code} ${closed.reason}` : 'saved',
      sendToAckOrCloseMs: ackAt - sentAt,
      serverCpuToAckMs: cpuToAck.statMs,
      serverCpuToAckSchedMs: cpuToAck.schedMs,
      serverCpuTo2sAfterMs: cpuAfter.statMs,
      rssBeforeMiB: mib(rssBeforeKiB),
      // With the peak reset to the RSS before the send, VmHWM after is the peak during it.
      peakRssGrowthMiB: mib(
        (isPeakReset ? hwmAfterKiB : Math.max(hwmAfterKiB, sampledMaxKiB)) - rssBeforeKiB,
      ),
      hwmDeltaMiB: mib(hwmAfterKiB - hwmBeforeKiB),
      sampledPeakRssGrowthMiB: mib(sampledMaxKiB - rssBeforeKiB),
      sampledPeakAfterSendMs: sampledMaxAt - sentAt,
      rssGrowth2sAfterMiB: mib(rssAfterKiB - rssBeforeKiB),
      atAckRssGrowthMiB: mibOf(peekAtAck.rss - peekBefore.rss),
      atAckHeapTotalGrowthMiB: mibOf(peekAtAck.heapTotal - peekBefore.heapTotal),
      atAckHeapUsedGrowthMiB: mibOf(peekAtAck.heapUsed - peekBefore.heapUsed),
      atAckArrayBuffersGrowthMiB: mibOf(peekAtAck.arrayBuffers - peekBefore.arrayBuffers),
      atAckExternalGrowthMiB: mibOf(peekAtAck.external - peekBefore.external),
      retainedRssAfterGcMiB: mibOf(memoryAfter.rss - memoryBefore.rss),
      retainedHeapUsedMiB: mibOf(memoryAfter.heapUsed - memoryBefore.heapUsed),
      retainedExternalMiB: mibOf(memoryAfter.external - memoryBefore.external),
      retainedArrayBuffersMiB: mibOf(memoryAfter.arrayBuffers - memoryBefore.arrayBuffers),
      isPeakReset: isPeakReset ? 'yes' : 'no (VmHWM since start)',
      readerFailures: failures || 'none',
      rejection: server.rejections().join(' | '),
    }
  })
}

// ---------------------------------------------------------------------------------------------
// Repetitions, summaries, tables.

interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
}

interface VariantResult {
  readonly reps: Metrics[]
  readonly summary: Record<string, Summary | string>
}

function summarise(reps: readonly Metrics[]): Record<string, Summary | string> {
  const out: Record<string, Summary | string> = {}
  for (const name of new Set(reps.flatMap((rep) => Object.keys(rep)))) {
    const values = reps.map((rep) => rep[name])
    const numbers = values.filter((value): value is number => typeof value === 'number')
    if (numbers.length === values.length) {
      const finite = numbers.filter(Number.isFinite)
      out[name] = {
        median: median(numbers),
        min: finite.length > 0 ? Math.min(...finite) : NaN,
        max: finite.length > 0 ? Math.max(...finite) : NaN,
      }
    } else {
      out[name] = [...new Set(values.map(String))].join(' / ')
    }
  }
  return out
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '–'
  if (Math.abs(value) >= 100) return value.toFixed(0)
  if (Math.abs(value) >= 10) return value.toFixed(1)
  return value.toFixed(2)
}

function cell(value: Summary | string | undefined): string {
  if (value === undefined) return ''
  if (typeof value === 'string') return value.replaceAll('|', '\\|')
  return `${formatNumber(value.median)} (${formatNumber(value.min)}–${formatNumber(value.max)})`
}

function table(title: string, variants: Record<string, VariantResult>): string {
  const names = Object.keys(variants)
  const metrics = [...new Set(names.flatMap((name) => Object.keys(variants[name]?.summary ?? {})))]
  const lines = [
    `### ${title}`,
    '',
    'median (min–max) over repetitions',
    '',
    `| metric | ${names.join(' | ')} |`,
    `| --- | ${names.map(() => '---').join(' | ')} |`,
    ...metrics.map(
      (metric) => `| ${metric} | ${names.map((name) => cell(variants[name]?.summary[metric])).join(' | ')} |`,
    ),
  ]
  return lines.join('\n')
}

async function repeat(
  context: Context,
  reps: number,
  label: string,
  once: () => Promise<Metrics>,
): Promise<VariantResult> {
  const results: Metrics[] = []
  for (let rep = 1; rep <= reps; rep++) {
    context.log(`  ${label}: repetition ${rep}/${reps}`)
    try {
      results.push(await once())
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      context.log(`    failed: ${message}`)
      results.push({ error: message })
    }
  }
  return { reps: results, summary: summarise(results) }
}

function gitDescribe(root: string): { commit: string; isDirty: boolean } {
  try {
    const commit = execFileSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim()
    const status = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    })
    return { commit, isDirty: status.trim().length > 0 }
  } catch {
    return { commit: '?', isDirty: false }
  }
}

const { values: args } = parseArgs({
  options: {
    root: { type: 'string', default: REPO_ROOT },
    reps: { type: 'string', default: '3' },
    only: { type: 'string', default: '1,2,3' },
    out: { type: 'string', default: join(tmpdir(), 'hostile-costs.json') },
    'server-arg': { type: 'string', multiple: true, default: [] },
    'server-log': { type: 'string' },
  },
})
const root = resolve(args.root)
const reps = Number(args.reps)
const only = new Set(args.only.split(',').map((part) => part.trim()))
const log = (line: string): void => void process.stderr.write(`${line}\n`)
const pool = await WorkerPool.start(2)
const context: Context = { root, serverArgs: args['server-arg'], serverLog: args['server-log'], pool, log }
const uptime = (): string => readFileSync('/proc/loadavg', 'utf8').trim()
const results: Record<string, Record<string, VariantResult>> = {}
const loadBefore = uptime()
const startedAt = new Date().toISOString()
try {
  if (only.has('1')) {
    log(`scenario 1: ${ROOT_NAMES} root-type names in one update`)
    const update = rootNamesUpdate(ROOT_NAMES)
    const variant = `${ROOT_NAMES} names (${(update.byteLength / 1024).toFixed(0)} KiB)`
    results['root-names'] = {
      [variant]: await repeat(context, reps, variant, () => rootNames(context, update)),
    }
  }
  if (only.has('2')) {
    log('scenario 2: updates with clock gaps, then 200 typed edits')
    const all = gapUpdates(Math.max(...GAP_COUNTS))
    results['clock-gaps'] = {}
    for (const count of GAP_COUNTS) {
      const variant = count === 0 ? 'control (0)' : `${count} waiting`
      results['clock-gaps'][variant] = await repeat(context, reps, variant, () =>
        clockGaps(context, all.slice(0, count)),
      )
    }
  }
  if (only.has('3')) {
    log('scenario 3: one 8 MiB string insert')
    const variants: Array<[string, () => string]> = [
      ['ASCII, exactly 8 MiB', () => 'a'.repeat(MAX_MESSAGE_BYTES)],
      ['ASCII, frame = 8 MiB', () => fittingText('a')],
      // U+0436: two bytes in UTF-8 and, above U+00FF, two in a V8 string too (é would be one).
      ['2-byte UTF-8 (ж), frame = 8 MiB', () => fittingText('ж')],
    ]
    results['big-string'] = {}
    for (const [variant, text] of variants) {
      const update = paragraphUpdate(text())
      results['big-string'][variant] = await repeat(context, reps, variant, () => bigString(context, update))
    }
  }
} finally {
  await pool.stop()
}

const report = {
  root,
  ...gitDescribe(root),
  startedAt,
  node: process.version,
  cores: CORES,
  loadavgBefore: loadBefore,
  loadavgAfter: uptime(),
  reps,
  results,
}
writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`)
const titles: Record<string, string> = {
  'root-names': `1. ${ROOT_NAMES} root-type names in one update`,
  'clock-gaps': `2. Updates with clock gaps, then ${TYPED_EDITS} typed edits (${TYPING_RATE_PER_S}/s) by another editor`,
  'big-string': '3. One big string insert (editor fragment), one reader connected',
}
console.log(
  `Root ${root} @ ${report.commit}${report.isDirty ? ' (dirty)' : ''}, ${reps} repetition(s), ` +
    `node ${process.version}, ${CORES} cores; /proc/loadavg before: ${loadBefore}, after: ${report.loadavgAfter}\n`,
)
for (const [key, variants] of Object.entries(results)) console.log(`${table(titles[key] ?? key, variants)}\n`)
console.log(`JSON: ${args.out}`)
