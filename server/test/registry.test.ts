import { CLOSE_REASONS, DOC_TITLE, decodeMessage, encodeMessage, type CloseReason } from '@tandem/shared'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { Persister } from '../src/core/Persister.ts'
import { Room } from '../src/core/Room.ts'
import { RoomRegistry, RoomUnavailableError } from '../src/core/RoomRegistry.ts'
import { Session, type WriteDone } from '../src/core/Session.ts'
import type { Peer } from '../src/core/types.ts'
import type { AppendEntry } from '../src/persistence/DocStore.ts'
import { MemoryStore } from '../src/persistence/MemoryStore.ts'

class FlakyStore extends MemoryStore {
  isFailing = false
  failures = 0
  override append(entries: readonly AppendEntry[]): Promise<void> {
    if (!this.isFailing) return super.append(entries)
    this.failures += 1
    return Promise.reject(new Error('EIO'))
  }
}

/** A store whose loads wait until the test lets them through. */
class HeldLoadStore extends MemoryStore {
  #held: Array<() => void> = []
  override load(docId: string): ReturnType<MemoryStore['load']> {
    return new Promise<void>((resolve) => this.#held.push(resolve)).then(() => super.load(docId))
  }
  release(): void {
    for (const resolve of this.#held.splice(0)) resolve()
  }
  get heldLoads(): number {
    return this.#held.length
  }
}

function peer(id: string): Peer & { frames: Uint8Array[]; closed: CloseReason | null } {
  const frames: Uint8Array[] = []
  return {
    id,
    role: 'edit',
    wantsAcks: true,
    viewerName: '',
    resumeFrom: null,
    isProbe: false,
    frames,
    closed: null,
    send(frame) {
      frames.push(frame)
    },
    checkAlive: () => Promise.resolve(true),
    close(reason) {
      this.closed = reason
    },
  }
}

function registry(store: MemoryStore, roomIdleMs = 0): RoomRegistry {
  const persister = new Persister(store, { retryDelayMs: 5, maxRetryDelayMs: 10 })
  return new RoomRegistry(store, persister, { roomIdleMs, maxPendingBytes: 1024 })
}

const update = (text: string): Uint8Array => {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return encodeMessage({ type: 'sync-update', update: Y.encodeStateAsUpdate(doc) })
}

describe('RoomRegistry', () => {
  it('[R2] concurrent joins share one load and frames sent meanwhile are applied after it', async () => {
    const store = new MemoryStore()
    const load = vi.spyOn(store, 'load')
    const rooms = registry(store, 60_000)
    const peers = Array.from({ length: 20 }, (_, i) => peer(`p${i}`))
    const connections = peers.map((p) => rooms.connect('doc', p))
    connections[0]?.receive(update('early'))
    await vi.waitFor(() => expect(rooms.peek('doc')?.peerCount).toBe(20))
    expect(load).toHaveBeenCalledTimes(1)
    expect(rooms.peek('doc')?.doc.getText('t').toString()).toBe('early')
    await rooms.close()
  })

  it('[R2] a peer that floods frames before its room loads is closed, not buffered without bound', () => {
    const rooms = registry(new MemoryStore(), 60_000)
    const flooder = peer('f')
    const connection = rooms.connect('doc', flooder)
    for (let i = 0; i < 10; i++) connection.receive(new Uint8Array(200))
    expect(flooder.closed).toBe(CLOSE_REASONS.messageTooBig)
  })

  it('[R13] an idle room unloads only once its writes are durable', async () => {
    const store = new FlakyStore()
    store.isFailing = true
    const rooms = registry(store, 0)
    const writer = peer('w')
    const connection = rooms.connect('doc', writer)
    await vi.waitFor(() => expect(rooms.peek('doc')).toBeDefined())
    connection.receive(update('unsaved'))
    connection.close()
    await vi.waitFor(() => expect(rooms.peek('doc')?.isDirty).toBe(true))
    // Several failed retries later (well past the 0 ms idle time) the room is still loaded.
    await vi.waitFor(() => expect(store.failures).toBeGreaterThanOrEqual(3))
    expect(rooms.loadedRoomCount).toBe(1)
    store.isFailing = false
    await vi.waitFor(() => expect(rooms.loadedRoomCount).toBe(0))
    const stored = await store.load('doc')
    const copy = new Y.Doc()
    for (const u of stored?.updates ?? []) Y.applyUpdate(copy, u)
    expect(copy.getText('t').toString()).toBe('unsaved')
  })

  it('[R60][R65] a remembered title is not answered once the stored document changed after it (another node renamed it)', async () => {
    const store = new MemoryStore()
    const rooms = registry(store, 0)
    const titled = (title: string): Uint8Array => {
      const doc = new Y.Doc()
      doc.getText(DOC_TITLE).insert(0, title)
      return Y.encodeStateAsUpdate(doc)
    }
    await store.append([{ docId: 'doc', update: titled('First') }])
    expect(await rooms.title('doc')).toBe('First')
    await vi.waitFor(() => expect(rooms.loadedRoomCount).toBe(0))
    // Another node changes the stored document while this one remembers 'First'.
    await store.append([{ docId: 'doc', update: titled('Second') }])
    const meta = await store.getMeta('doc')
    expect(await rooms.title('doc', 0)).toBe('First')
    expect(await rooms.title('doc', (meta?.updatedAt ?? 0) + 1)).toContain('Second')
  })

  it('[R10] a document whose stored value cannot be decoded fails closed with 4503', async () => {
    const store = new MemoryStore()
    await store.append([{ docId: 'broken', update: new Uint8Array([9, 9, 9]) }])
    const rooms = registry(store)
    const victim = peer('v')
    rooms.connect('broken', victim)
    await vi.waitFor(() => expect(victim.closed).toBe(CLOSE_REASONS.docUnavailable))
    expect((await store.load('broken'))?.updates).toHaveLength(1)
    const other = peer('o')
    rooms.connect('fine', other)
    await vi.waitFor(() => expect(other.frames.length).toBeGreaterThan(0))
    expect(decodeMessage(other.frames[0] ?? new Uint8Array()).type).toBe('sync-step1')
  })
})

describe('RoomRegistry delete (R55)', () => {
  it('[R55] a join in flight is closed with the reason of what cut it off: 4404 delete, 4403 links reset', async () => {
    for (const [cut, reason] of [
      ['delete', CLOSE_REASONS.docNotFound],
      ['links reset', CLOSE_REASONS.forbidden],
    ] as const) {
      const store = new HeldLoadStore()
      await store.create('doc', 'key')
      const rooms = registry(store, 60_000)
      const joiner = peer('j')
      rooms.connect('doc', joiner)
      await vi.waitFor(() => expect(store.heldLoads).toBe(1))
      const deleted = cut === 'delete' ? rooms.delete('doc', CLOSE_REASONS.docNotFound) : null
      if (cut === 'links reset') rooms.closeAll('doc', CLOSE_REASONS.forbidden)
      store.release()
      await vi.waitFor(() => expect(joiner.closed).toBe(reason))
      expect(await deleted).toBe(cut === 'delete' ? true : null)
      await rooms.close()
    }
  })

  it('[R55] a read while the document is deleted, or after, is refused with 404 and loads nothing', async () => {
    const store = new MemoryStore()
    await store.create('doc', 'key')
    await store.append([{ docId: 'doc', update: new Uint8Array([0, 0]) }])
    const rooms = registry(store, 60_000)
    const writer = peer('w')
    rooms.connect('doc', writer)
    await vi.waitFor(() => expect(rooms.peek('doc')).toBeDefined())
    const deleted = rooms.delete('doc', CLOSE_REASONS.docNotFound)
    const during = rooms.read('doc', () => 'read')
    await expect(during).rejects.toBeInstanceOf(RoomUnavailableError)
    await expect(during).rejects.toMatchObject({ reason: CLOSE_REASONS.docNotFound })
    expect(await deleted).toBe(true)
    // Past the delete the store holds nothing: not an empty document but a missing one.
    await expect(rooms.read('doc', () => 'read')).rejects.toMatchObject({ reason: CLOSE_REASONS.docNotFound })
    await rooms.close()
  })

  it('[R55] overlapping deletes remove the document once: one resolves true, the other false', async () => {
    const store = new MemoryStore()
    await store.create('doc', 'key')
    const remove = vi.spyOn(store, 'delete')
    const rooms = registry(store, 60_000)
    const member = peer('m')
    rooms.connect('doc', member)
    await vi.waitFor(() => expect(rooms.peek('doc')).toBeDefined())
    const destroy = vi.spyOn(Room.prototype, 'destroy')
    try {
      const results = await Promise.all([
        rooms.delete('doc', CLOSE_REASONS.docNotFound),
        rooms.delete('doc', CLOSE_REASONS.docNotFound),
      ])
      expect(results).toEqual([true, false])
      expect(destroy).toHaveBeenCalledTimes(1)
      expect(remove).toHaveBeenCalledTimes(1)
      expect(member.closed).toBe(CLOSE_REASONS.docNotFound)
      // Once it settled, a later delete is a new one (and finds nothing).
      expect(await rooms.delete('doc', CLOSE_REASONS.docNotFound)).toBe(false)
    } finally {
      destroy.mockRestore()
    }
  })
})

describe('Session', () => {
  it('[R9] closes a client that stops reading once its queue passes the cap', () => {
    const ended: CloseReason[] = []
    const session = new Session(
      { id: 's', role: 'edit', wantsAcks: false },
      {
        write: () => undefined /* never done: the client is not reading */,
        end: (reason) => ended.push(reason),
        checkAlive: () => Promise.resolve(true),
      },
      { maxQueuedBytes: 1000 },
    )
    for (let i = 0; i < 20; i++) session.send(new Uint8Array(100))
    expect(ended).toEqual([CLOSE_REASONS.slowReader])
    expect(session.isClosed).toBe(true)
    expect(session.queuedBytes).toBe(0)
  })

  it('[R9] a reading client gets queued frames together in order', () => {
    const writes: number[][] = []
    let done: WriteDone | null = null
    const session = new Session(
      { id: 's', role: 'edit', wantsAcks: false },
      {
        write: (frames, onDone) => {
          writes.push(frames.map((f) => f[0] ?? -1))
          done = onDone
        },
        end: () => undefined,
        checkAlive: () => Promise.resolve(true),
      },
      { maxQueuedBytes: 1000 },
    )
    session.send(new Uint8Array([1]))
    session.send(new Uint8Array([2]))
    session.send(new Uint8Array([3]))
    ;(done as WriteDone | null)?.written()
    expect(writes).toEqual([[1], [2, 3]])
  })
})
