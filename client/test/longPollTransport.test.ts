import { describe, expect, it, vi } from 'vitest'
import { LongPollTransport } from '../src/sync/longPollTransport.ts'
import type { TransportHandlers } from '../src/sync/transport.ts'
import { urlOf } from './support/scripted.ts'

/** A long-poll server in a function: the session opens, and every poll does what `poll` says. */
function server(poll: (signal: AbortSignal) => Promise<Response>): typeof fetch {
  return (input, init) => {
    const url = new URL(urlOf(input))
    const method = init?.method ?? 'GET'
    if (method === 'POST' && url.pathname.endsWith('/lp'))
      return Promise.resolve(
        Response.json({ sessionId: 's1', pollTimeoutMs: 30, idleTimeoutMs: 60_000 }, { status: 201 }),
      )
    if (method === 'GET') return poll(init?.signal ?? new AbortController().signal)
    return Promise.resolve(new Response(null, { status: 204 }))
  }
}

function handlers(): TransportHandlers & { alive: number; closed: unknown[] } {
  return {
    alive: 0,
    closed: [],
    onOpen: () => undefined,
    onFrame: () => undefined,
    onAlive() {
      this.alive += 1
    },
    onClose(reason) {
      this.closed.push(reason)
    },
  }
}

describe('[R12] long polling on a dead connection', () => {
  it('[R12] a poll still unanswered pollTimeoutMs + grace after it was sent ends the connection as dead', async () => {
    // The server's answer never comes (a half-open connection): only the abort ends the request.
    const hanging = server(
      (signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
        ),
    )
    const transport = new LongPollTransport({
      baseUrl: 'http://tandem.test',
      docId: 'd',
      token: 't',
      fetchImpl: hanging,
      pollGraceMs: 40,
    })
    const events = handlers()
    const startedAtMs = Date.now()
    transport.open(events)
    await vi.waitFor(() => expect(events.closed).toEqual([null]))
    expect(Date.now() - startedAtMs).toBeGreaterThanOrEqual(60)
  })

  it('[R12] an empty poll answer (204) is a sign of life, and polling goes on', async () => {
    // Each poll ends empty after a moment, as a held poll does after pollTimeoutMs.
    const idle = server(
      () => new Promise((resolve) => setTimeout(() => resolve(new Response(null, { status: 204 })), 5)),
    )
    const transport = new LongPollTransport({
      baseUrl: 'http://tandem.test',
      docId: 'd',
      token: 't',
      fetchImpl: idle,
    })
    const events = handlers()
    const connection = transport.open(events)
    await vi.waitFor(() => expect(events.alive).toBeGreaterThanOrEqual(3))
    expect(events.closed).toEqual([])
    connection.close()
  })
})
