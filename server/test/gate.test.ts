import type { IncomingMessage } from 'node:http'
import { CLOSE_REASONS, type CloseReason } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import { Persister } from '../src/core/Persister.ts'
import { RoomRegistry } from '../src/core/RoomRegistry.ts'
import { MemoryStore } from '../src/persistence/MemoryStore.ts'
import { ConnectionGate } from '../src/transports/gate.ts'

describe('the connection gate', () => {
  it('[R55][R30] a connection the registry closes while joining is still logged, counted and frees its IP slot', async () => {
    const store = new MemoryStore()
    await store.create('doc', 'link-key')
    const registry = new RoomRegistry(store, new Persister(store, { retryDelayMs: 5, maxRetryDelayMs: 5 }), {
      roomIdleMs: 0,
      maxPendingBytes: 1024,
    })
    let slots = 0
    const events: string[] = []
    const lines: string[] = []
    const gate = new ConnectionGate({
      registry,
      admit: () => {
        slots += 1
        return { ok: true, slot: { release: () => (slots -= 1) } }
      },
      isOriginAllowed: () => true,
      authorize: () => Promise.resolve({ ok: true, role: 'edit' }),
      maxQueuedBytes: 1024,
      log: { info: (_fields, message) => lines.push(message), warn: () => undefined },
      observer: {
        opened: () => events.push('opened'),
        closed: (_connection, reason) => events.push(`closed ${reason.code}`),
      },
    })
    const checked = await gate.check({} as IncomingMessage, 'doc', new URLSearchParams('k=token'))
    if (!checked.ok) throw new Error('refused')
    expect(slots).toBe(1)
    // The document is being deleted: the registry closes whoever joins now, at once.
    const deleting = registry.delete('doc', CLOSE_REASONS.docNotFound)
    const ended: CloseReason[] = []
    const connection = gate.open(checked.ticket, 'websocket', {
      write: (_frames, done) => done.written(),
      end: (reason) => ended.push(reason),
      checkAlive: () => Promise.resolve(true),
    })
    expect(connection.session.isClosed).toBe(true)
    expect(ended).toEqual([CLOSE_REASONS.docNotFound])
    expect(events).toEqual(['opened', `closed ${CLOSE_REASONS.docNotFound.code}`])
    expect(lines).toEqual(['connection opened', 'connection closed'])
    expect(slots).toBe(0)
    await deleting
  })
})
