/**
 * Every knob of the cluster scenario, both modes. `full` is what docs/BENCHMARKS.md § Cluster reports
 * (≤ 10 min on a quiet 2-core machine); `quick` checks it end to end (≤ 3 min) with one repetition
 * and a smaller load, and its numbers are marked as such.
 */
export type ClusterMode = 'quick' | 'full'

/** What serves the documents: the default single LevelDB node, or N nodes on PostgreSQL + Redis. */
export type TopologyId = 'leveldb-1' | 'pg-1' | 'pg-3' | 'pg-3-rooms'

export interface Topology {
  readonly id: TopologyId
  readonly label: string
  readonly nodes: number
  readonly isCluster: boolean
  /**
   * `clients`: the ramp's clients go round-robin over the nodes, so a room is on several nodes (the
   * brief's cluster). `rooms`: all clients of a room on one node, rooms round-robin — what a balancer
   * routing by document would do; the control that tells the cost of sharing a room across nodes.
   */
  readonly spread: 'clients' | 'rooms'
}

export const TOPOLOGIES: Readonly<Record<TopologyId, Topology>> = {
  'leveldb-1': {
    id: 'leveldb-1',
    label: '1 node, LevelDB (default)',
    nodes: 1,
    isCluster: false,
    spread: 'clients',
  },
  'pg-1': { id: 'pg-1', label: '1 node, PostgreSQL + Redis', nodes: 1, isCluster: true, spread: 'clients' },
  'pg-3': { id: 'pg-3', label: '3 nodes, PostgreSQL + Redis', nodes: 3, isCluster: true, spread: 'clients' },
  'pg-3-rooms': {
    id: 'pg-3-rooms',
    label: '3 nodes, each room on one node',
    nodes: 3,
    isCluster: true,
    spread: 'rooms',
  },
}

export const TOPOLOGY_IDS = Object.keys(TOPOLOGIES) as TopologyId[]

export interface ClusterProfile {
  readonly mode: ClusterMode
  readonly repetitions: number
  /** Load generators: the fan-out needs three (writer, same-node readers, cross-node readers). */
  readonly workers: number
  readonly fanout: {
    /** Readers on the writer's node, and as many on the other nodes (one group each). */
    readonly readersPerGroup: number
    readonly rates: readonly number[]
    readonly phaseMs: number
    readonly drainMs: number
  }
  readonly ramp: {
    readonly rooms: number
    readonly clientsPerRoom: number
    /** Total updates/s over all rooms, tried in order until one is not steady. */
    readonly steps: readonly number[]
    readonly stepMs: number
    readonly drainMs: number
    /** A step is steady when p99 delivery stays under this, everything arrived, nothing dropped. */
    readonly p99LimitMs: number
    /** The rate at which CPU per 1,000 updates is compared (every topology must hold it). */
    readonly cpuRate: number
    /** A window with clients connected and nobody writing: the background cost (presence, pings). */
    readonly idleMs: number
  }
}

const FULL: ClusterProfile = {
  mode: 'full',
  repetitions: 3,
  workers: 3,
  fanout: { readersPerGroup: 50, rates: [20, 200], phaseMs: 1_500, drainMs: 10_000 },
  ramp: {
    rooms: 1_000,
    clientsPerRoom: 5,
    steps: [250, 500, 1_000, 1_500, 2_000, 3_000, 4_000, 6_000],
    stepMs: 2_000,
    drainMs: 5_000,
    p99LimitMs: 250,
    cpuRate: 500,
    idleMs: 2_000,
  },
}

const QUICK: ClusterProfile = {
  mode: 'quick',
  repetitions: 1,
  workers: 3,
  fanout: { readersPerGroup: 10, rates: [20, 200], phaseMs: 1_000, drainMs: 5_000 },
  ramp: {
    rooms: 200,
    clientsPerRoom: 5,
    steps: [250, 500, 1_000, 2_000],
    stepMs: 1_000,
    drainMs: 3_000,
    p99LimitMs: 250,
    cpuRate: 500,
    idleMs: 1_000,
  },
}

export function clusterProfileFor(mode: ClusterMode): ClusterProfile {
  return mode === 'full' ? FULL : QUICK
}
