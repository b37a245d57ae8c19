import type { CloseReason } from '@tandem/shared'
import { describe, expect, it } from 'vitest'
import type { Peer } from '../src/core/types.ts'
import { WaitingUpdates, type WaitReason, type WaitingUpdate } from '../src/core/WaitingUpdates.ts'

const peer = (id: string): Peer => ({
  id,
  role: 'edit',
  wantsAcks: false,
  viewerName: '',
  resumeFrom: null,
  isProbe: false,
  send: () => {},
  close: (_reason: CloseReason) => {},
  checkAlive: () => Promise.resolve(true),
})

const entry = (from: Peer, seq: number): WaitingUpdate => ({
  peer: from,
  seq,
  update: new Uint8Array(10),
  isLiveEdit: true,
})

describe('waiting updates', () => {
  it('[R31] an advancing document offers only the updates whose missing content arrived', () => {
    const waiting = new WaitingUpdates()
    const attacker = peer('attacker')
    // Thousands waiting for a client that never comes.
    for (let seq = 1; seq <= 5_000; seq++) waiting.add(entry(attacker, seq), new Map([[999, seq]]))
    const writer = peer('writer')
    waiting.add(entry(writer, 1), new Map([[7, 3]]))
    const state = new Map<number, number>([[7, 2]])
    const stateOf = (client: number): number => state.get(client) ?? 0
    const offered: number[] = []
    const settle = (update: WaitingUpdate): WaitReason | 'done' => {
      offered.push(update.seq)
      return 'done'
    }

    waiting.drain(stateOf, settle, false)
    expect(offered).toEqual([])
    state.set(7, 3)
    waiting.drain(stateOf, settle, false)
    expect(offered).toEqual([1])
    expect(waiting.count).toBe(5_000)
    expect(waiting.holdsFrom(writer)).toBe(false)
    expect(waiting.holdsFrom(attacker)).toBe(true)
  })

  it('[R31] an update needing several clients is offered once all of them arrived, in arrival order', () => {
    const waiting = new WaitingUpdates()
    const from = peer('p')
    waiting.add(
      entry(from, 1),
      new Map([
        [1, 5],
        [2, 5],
      ]),
    )
    waiting.add(entry(from, 2), new Map([[2, 1]]))
    waiting.add(entry(from, 3), 'owner')
    const state = new Map<number, number>()
    const stateOf = (client: number): number => state.get(client) ?? 0
    const offered: number[] = []
    const settle = (update: WaitingUpdate): WaitReason | 'done' => {
      offered.push(update.seq)
      return 'done'
    }
    state.set(1, 5)
    waiting.drain(stateOf, settle, false)
    expect(offered).toEqual([])
    state.set(2, 5)
    waiting.drain(stateOf, settle, false)
    expect(offered).toEqual([1, 2])
    waiting.drain(stateOf, settle, true)
    expect(offered).toEqual([1, 2, 3])
    expect(waiting.isEmpty).toBe(true)
    expect(waiting.bytes).toBe(0)
  })

  it('[R31] what one applied update unblocks is offered in the same drain; a re-check may wait again', () => {
    const waiting = new WaitingUpdates()
    const from = peer('p')
    const state = new Map<number, number>()
    const stateOf = (client: number): number => state.get(client) ?? 0
    // seq 2 needs client 1 at 1 (what seq 1 writes); seq 1 needs client 0 at 1.
    waiting.add(entry(from, 2), new Map([[1, 1]]))
    waiting.add(entry(from, 1), new Map([[0, 1]]))
    waiting.add(entry(from, 3), new Map([[0, 1]]))
    const offered: number[] = []
    state.set(0, 1)
    waiting.drain(
      stateOf,
      (update) => {
        offered.push(update.seq)
        if (update.seq === 1) state.set(1, 1)
        return update.seq === 3 ? new Map([[5, 1]]) : 'done'
      },
      false,
    )
    expect(offered).toEqual([1, 3, 2])
    expect(waiting.count).toBe(1)
    waiting.removePeer(from)
    expect(waiting.isEmpty).toBe(true)
  })
})
