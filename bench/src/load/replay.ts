import { readFileSync } from 'node:fs'
import * as decoding from 'lib0/decoding'
import { nowMs, sleep } from '../util/clock.ts'
import { digestOf } from './replica.ts'
import type { Answers, Command, ReplayAnswer } from './rpc.ts'
import type { Session } from './session.ts'

/** Reads a file of varUint8Array-framed updates. */
function readUpdates(file: string, count: number): Uint8Array[] {
  const decoder = decoding.createDecoder(new Uint8Array(readFileSync(file)))
  const updates: Uint8Array[] = []
  while (updates.length < count && decoding.hasContent(decoder))
    updates.push(decoding.readVarUint8Array(decoder))
  return updates
}

/**
 * Sends precomputed updates as fast as the socket takes them, yielding every 500 so the client keeps
 * reading; with `applyOwn` the sender's replica holds them too (a relay anchor answers joiners).
 */
export async function sendUpdates(
  session: Session,
  command: Command & { op: 'send' },
): Promise<Answers['send']> {
  const updates = readUpdates(command.file, command.count)
  const start = nowMs()
  for (let i = 0; i < updates.length; i++) {
    const update = updates[i]
    if (!update) continue
    if (command.applyOwn) session.replica.receive(update, nowMs())
    session.sendUpdate(update)
    if (i % 500 === 499) await sleep(0)
  }
  return { elapsedMs: nowMs() - start }
}

/**
 * Replays a recorded editing trace as fast as the server keeps up: at most `windowOps` ops are in
 * flight (sent by the writer, not yet seen by the reader). After `maxMs` it stops at the next
 * checkpoint; done when the reader's text is exactly the text the trace had there.
 */
export async function replay(
  writer: Session,
  reader: Session,
  command: Command & { op: 'replay' },
): Promise<ReplayAnswer> {
  const text = reader.replica.doc?.getText('t')
  if (!text) throw new Error('the replay reader needs a full replica')
  const last = command.checkpoints.length - 1
  const updates = readUpdates(command.file, command.checkpoints[last]?.ops ?? 0)
  const deadline = Date.now() + command.timeoutMs
  const start = nowMs()
  let sent = 0
  let target = command.checkpoints[last]
  while (target && sent < target.ops) {
    if (Date.now() > deadline) throw new Error(`replay stalled after ${sent} ops`)
    const readerClock = reader.replica.clockOf(command.traceClientId)
    // The reader has at least every op up to the last one whose inserts it holds.
    let confirmed = sent
    while (confirmed > 0 && (command.clockAfter[confirmed - 1] ?? 0) > readerClock) confirmed -= 1
    const allowed = Math.min(target.ops, confirmed + command.windowOps)
    for (; sent < allowed; sent++) {
      const update = updates[sent]
      if (update) writer.sendUpdate(update)
    }
    if (nowMs() - start > command.maxMs && target === command.checkpoints[last]) {
      target = command.checkpoints.find((checkpoint) => checkpoint.ops >= sent) ?? target
    }
    await sleep(0)
  }
  if (!target) throw new Error('no checkpoints')
  const expected = target
  const isDone = (): boolean =>
    text.length === expected.length && digestOf(text.toString()).sha1 === expected.sha1
  while (!isDone()) {
    if (Date.now() > deadline) {
      throw new Error(
        `reader text differs after ${sent} ops (${text.length} chars, expected ${expected.length})`,
      )
    }
    await sleep(1)
  }
  return { ops: sent, elapsedMs: nowMs() - start }
}
