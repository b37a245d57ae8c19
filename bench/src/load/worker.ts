/**
 * A load-generator process: hosts clients and runs what the coordinator asks (rpc.ts). One Node
 * process tops out near 4,000 updates/s or ~100k frames/s, so a run spreads its clients over
 * several of these; their CPU is read from /proc by the coordinator.
 */
import { Agent } from 'node:http'
import { nowMs, sleep } from '../util/clock.ts'
import { percentileSorted } from '../util/stats.ts'
import { openClient, type Client } from './clients.ts'
import { digestOf } from './replica.ts'
import { replay, sendUpdates } from './replay.ts'
import type { Answers, Command, Reply, Request, WriteAnswer } from './rpc.ts'
import type { ClientSpec, JoinTiming, SentTimes } from './spec.ts'

const clients = new Map<string, Client>()
const agent = new Agent({ keepAlive: true, maxSockets: Infinity })

function client(id: string): Client {
  const found = clients.get(id)
  if (!found) throw new Error(`no client ${id}`)
  return found
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

async function open(
  specs: readonly ClientSpec[],
  concurrency: number,
  timeoutMs: number,
): Promise<Answers['open']> {
  const joins: JoinTiming[] = []
  const failures: string[] = []
  let next = 0
  // Bounded concurrency: thousands of simultaneous upgrades overflow the listen backlog.
  const lane = async (): Promise<void> => {
    while (next < specs.length) {
      const spec = specs[next++]
      if (!spec) return
      const opened = openClient(spec, agent)
      clients.set(spec.id, opened)
      try {
        await withTimeout(opened.session.whenJoined, timeoutMs, `${spec.id} join`)
        joins.push({ id: spec.id, ...opened.session.timing() })
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error))
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane))
  return { joins, failures }
}

/**
 * Makes `rate` changes per second in total, round-robin over `writers`, for `durationMs`. Paced
 * against the schedule, not by sleeping a fixed interval: a late tick catches up, and how late the
 * changes were is reported (a generator that falls behind is the limit, not the server).
 */
async function write(writerIds: readonly string[], rate: number, durationMs: number): Promise<WriteAnswer> {
  const writers = writerIds.map(client)
  const total = Math.max(1, Math.round((rate * durationMs) / 1000))
  const fromClocks = writers.map((w) => w.session.writer?.clock ?? 0)
  const lateness = new Float64Array(total)
  const intervalMs = 1000 / rate
  const start = nowMs()
  let sent = 0
  let last = start
  while (sent < total) {
    const now = nowMs()
    const due = Math.min(total, Math.floor((now - start) / intervalMs) + 1)
    while (sent < due) {
      const session = writers[sent % writers.length]?.session
      const writer = session?.writer
      if (!session || !writer) throw new Error('not a writer')
      lateness[sent] = nowMs() - (start + sent * intervalMs)
      session.sendUpdate(writer.next())
      sent += 1
    }
    last = nowMs()
    if (sent < total) await sleep(Math.max(0, start + sent * intervalMs - nowMs()))
  }
  const sentTimes: SentTimes[] = writers.map((w, index) => {
    const writer = w.session.writer
    const from = fromClocks[index] ?? 0
    if (!writer) throw new Error('not a writer')
    return {
      room: w.session.spec.room,
      clientId: writer.clientId,
      fromClock: from,
      times: Float64Array.from(writer.sentAt.slice(from)),
    }
  })
  return {
    sent,
    plannedMs: durationMs,
    actualMs: last - start,
    lateP99Ms: percentileSorted(lateness.sort(), 99),
    sentTimes,
  }
}

function writerClocks(): Answers['writerClocks'] {
  const clocks: Array<{ room: string; clientId: number; clock: number }> = []
  for (const { session } of clients.values()) {
    if (session.writer)
      clocks.push({ room: session.spec.room, clientId: session.writer.clientId, clock: session.writer.clock })
  }
  return clocks
}

/** Waits until every client here has received every expected writer's changes up to `clock`. */
async function awaitClocks(expected: Command & { op: 'await' }): Promise<Answers['await']> {
  const deadline = Date.now() + expected.timeoutMs
  const lagging = (): string[] => {
    const late: string[] = []
    for (const { session } of clients.values()) {
      for (const { room, clientId, clock } of expected.expected) {
        if (room !== session.spec.room || clientId === session.writer?.clientId) continue
        if (session.replica.clockOf(clientId) < clock) {
          late.push(`${session.spec.id} has ${session.replica.clockOf(clientId)}/${clock} of ${clientId}`)
          break
        }
      }
    }
    return late
  }
  for (;;) {
    const late = lagging()
    if (late.length === 0) return { ok: true, lagging: [] }
    if (Date.now() > deadline) return { ok: false, lagging: late.slice(0, 5) }
    await sleep(5)
  }
}

/** Delivery latency of every change in `sent` to every other client of its room hosted here. */
function latencies(sent: readonly SentTimes[]): Answers['latencies'] {
  const byRoom = new Map<string, SentTimes[]>()
  for (const entry of sent) byRoom.set(entry.room, [...(byRoom.get(entry.room) ?? []), entry])
  const values: number[] = []
  let missing = 0
  for (const { session } of clients.values()) {
    for (const entry of byRoom.get(session.spec.room) ?? []) {
      if (entry.clientId === session.writer?.clientId) continue
      const arrivals = session.replica.arrivalsOf(entry.clientId)
      for (let k = 0; k < entry.times.length; k++) {
        const arrived = arrivals?.[entry.fromClock + k]
        const at = entry.times[k]
        if (arrived === undefined || at === undefined) missing += 1
        else values.push(arrived - at)
      }
    }
  }
  return { latencies: Float64Array.from(values), missing }
}

async function digests(): Promise<Answers['digests']> {
  const out: Array<{ id: string; room: string; length: number; sha1: string }> = []
  for (const { session } of clients.values()) {
    if (!session.replica.isKept) continue
    out.push({
      id: session.spec.id,
      room: session.spec.room,
      ...digestOf(session.replica.text(session.writer?.doc ?? null)),
    })
    // Materializing hundreds of replicas takes a while: stay responsive to IPC between them.
    if (out.length % 50 === 0) await sleep(0)
  }
  return out
}

function acks(): Float64Array {
  const all: number[] = []
  for (const { session } of clients.values()) all.push(...session.ackLatencies.splice(0))
  return Float64Array.from(all)
}

function failures(): string[] {
  const out: string[] = []
  for (const { session } of clients.values())
    for (const error of session.errors) out.push(`${session.spec.id}: ${error}`)
  return out
}

function close(ids: readonly string[] | undefined): null {
  for (const id of ids ?? [...clients.keys()]) {
    clients.get(id)?.close()
    clients.delete(id)
  }
  return null
}

async function run(command: Command): Promise<unknown> {
  switch (command.op) {
    case 'open':
      return open(command.clients, command.concurrency, command.timeoutMs)
    case 'write':
      return write(command.writers, command.rate, command.durationMs)
    case 'writerClocks':
      return writerClocks()
    case 'await':
      return awaitClocks(command)
    case 'latencies':
      return latencies(command.sent)
    case 'digests':
      return digests()
    case 'acks':
      return acks()
    case 'failures':
      return failures()
    case 'close':
      return close(command.ids)
    case 'send':
      return sendUpdates(client(command.clientId).session, command)
    case 'replay':
      return replay(client(command.writerId).session, client(command.readerId).session, command)
  }
}

process.on('message', (request: Request) => {
  run(request.command).then(
    (value) => process.send?.({ id: request.id, ok: true, value } satisfies Reply),
    (error: unknown) =>
      process.send?.({
        id: request.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      } satisfies Reply),
  )
})
process.on('disconnect', () => process.exit(0))
