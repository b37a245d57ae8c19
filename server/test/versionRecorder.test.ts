import { afterEach, describe, expect, it, vi } from 'vitest'
import { VersionRecorder } from '../src/core/VersionRecorder.ts'
import { MemoryVersionStore } from '../src/persistence/MemoryVersionStore.ts'
import type { NewVersion, VersionMeta, VersionStore } from '../src/persistence/VersionStore.ts'

const PAUSE_MS = 1_000

function setup(options: { failing?: () => boolean } = {}) {
  const memory = new MemoryVersionStore()
  const versions: VersionStore = {
    add: (docId: string, version: NewVersion): Promise<VersionMeta> =>
      options.failing?.() ? Promise.reject(new Error('disk full')) : memory.add(docId, version),
    list: (docId) => memory.list(docId),
    get: (docId, id) => memory.get(docId, id),
    deleteAll: (docId) => memory.deleteAll(docId),
  }
  const errors: unknown[] = []
  let state = 1
  const recorder = new VersionRecorder(versions, {
    pauseMs: PAUSE_MS,
    stateOf: () => Promise.resolve(new Uint8Array([state++])),
    onError: (_docId, error) => errors.push(error),
  })
  return { recorder, versions, errors }
}

describe('VersionRecorder', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('[R62] takes one version after a pause in editing, covering every author since the last', async () => {
    vi.useFakeTimers()
    const { recorder, versions } = setup()
    recorder.changed('doc', ['Ada'])
    await vi.advanceTimersByTimeAsync(PAUSE_MS / 2)
    recorder.changed('doc', ['Bob', 'Ada'])
    await vi.advanceTimersByTimeAsync(PAUSE_MS - 1)
    expect(await versions.list('doc')).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(await versions.list('doc')).toMatchObject([
      { kind: 'auto', cause: 'pause', authors: ['Ada', 'Bob'] },
    ])
    // Nothing changed since: no further version.
    await vi.advanceTimersByTimeAsync(PAUSE_MS * 3)
    expect(await versions.list('doc')).toHaveLength(1)
  })

  it('[R62] the last editor leaving takes the version at once; an unchanged document gets none', async () => {
    vi.useFakeTimers()
    const { recorder, versions } = setup()
    recorder.editorsGone('doc')
    recorder.changed('doc', ['Ada'])
    recorder.editorsGone('doc')
    await vi.advanceTimersByTimeAsync(0)
    expect(await versions.list('doc')).toMatchObject([{ cause: 'left', authors: ['Ada'] }])
    await vi.advanceTimersByTimeAsync(PAUSE_MS * 2)
    expect(await versions.list('doc')).toHaveLength(1)
  })

  it('[R62] a named version covers the changes before it: no automatic one follows', async () => {
    vi.useFakeTimers()
    const { recorder, versions } = setup()
    recorder.changed('doc', ['Ada'])
    const named = await recorder.record('doc', { kind: 'named', name: 'Draft' })
    expect(named).toMatchObject({ kind: 'named', name: 'Draft', authors: ['Ada'] })
    await vi.advanceTimersByTimeAsync(PAUSE_MS * 2)
    expect(await versions.list('doc')).toHaveLength(1)
  })

  it('[R62] a failed automatic version keeps the document changed and is retried', async () => {
    vi.useFakeTimers()
    let isFailing = true
    const { recorder, versions, errors } = setup({ failing: () => isFailing })
    recorder.changed('doc', ['Ada'])
    await vi.advanceTimersByTimeAsync(PAUSE_MS)
    expect(errors).toHaveLength(1)
    isFailing = false
    recorder.editorsGone('doc')
    await vi.advanceTimersByTimeAsync(0)
    expect(await versions.list('doc')).toMatchObject([{ cause: 'left', authors: ['Ada'] }])
  })

  it('[R62] forget drops a pending version (the document is being deleted); close records the rest and clears timers', async () => {
    vi.useFakeTimers()
    const { recorder, versions } = setup()
    recorder.changed('gone', ['Ada'])
    recorder.changed('kept', ['Bob'])
    await recorder.forget('gone')
    await recorder.close()
    expect(vi.getTimerCount()).toBe(0)
    expect(await versions.list('gone')).toEqual([])
    expect(await versions.list('kept')).toMatchObject([{ cause: 'shutdown', authors: ['Bob'] }])
    recorder.changed('kept', ['Bob'])
    expect(vi.getTimerCount()).toBe(0)
  })
})
