import { randomBytes } from 'node:crypto'
import { PeerProcess, freePort } from '../peers/PeerProcess.ts'
import { quiesce } from '../scenarios/harness.ts'
import type { Topology } from './config.ts'
import { createDatabase, startRedis, type BenchDatabase, type BenchRedis } from './infra.ts'

/** One Tandem process of a running topology, with its private /metrics listener. */
export interface ClusterNode {
  readonly index: number
  readonly name: string
  readonly server: PeerProcess
  readonly metricsUrl: string
}

/** A topology started fresh for one repetition: its nodes and the engines under them. */
export interface RunningTopology {
  readonly topology: Topology
  readonly nodes: readonly ClusterNode[]
  readonly database: BenchDatabase | null
  readonly redis: BenchRedis | null
  /** The node serving client number `index` of a round-robin spread. */
  node(index: number): ClusterNode
  /** Waits until no node uses CPU: joins, handshakes and their writes are over. */
  settle(): Promise<void>
  stop(): Promise<void>
}

export interface StartOptions {
  /** Use this Redis (shared with others) instead of a private redis-server. */
  readonly sharedRedisUrl: string | null
}

/**
 * Starts `topology`: the default single LevelDB node, or N nodes on a fresh PostgreSQL database and a
 * Redis, each with its own NODE_NAME and the run's own REDIS_PREFIX. Nodes start one at a time, as
 * the first runs the schema migrations (R64). Everything is stopped and the database dropped on
 * `stop()`, also when starting failed halfway.
 */
export async function startTopology(topology: Topology, options: StartOptions): Promise<RunningTopology> {
  const nodes: ClusterNode[] = []
  let database: BenchDatabase | null = null
  let redis: BenchRedis | null = null
  const stop = async (): Promise<void> => {
    // Nodes first: a node's shutdown still writes (flush, versions of documents left).
    await Promise.all(nodes.map((node) => node.server.stop()))
    await database?.drop()
    await redis?.stop()
  }
  try {
    const clusterEnv: Record<string, string> = {}
    if (topology.isCluster) {
      database = await createDatabase()
      redis = await startRedis(options.sharedRedisUrl)
      clusterEnv['DATABASE_URL'] = database.url
      clusterEnv['REDIS_URL'] = redis.url
      clusterEnv['REDIS_PREFIX'] = `tandem-bench-${randomBytes(4).toString('hex')}:`
    }
    for (let index = 0; index < topology.nodes; index++) {
      const metricsPort = await freePort()
      const name = `node${index + 1}`
      const server = await PeerProcess.start('tandem', {
        env: {
          ...clusterEnv,
          ...(topology.isCluster ? { NODE_NAME: name } : {}),
          METRICS_PORT: String(metricsPort),
        },
      })
      nodes.push({ index, name, server, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` })
    }
  } catch (error) {
    await stop().catch(() => undefined)
    throw error
  }
  return {
    topology,
    nodes,
    database,
    redis,
    node(index) {
      const node = nodes[index % nodes.length]
      if (!node) throw new Error('no nodes')
      return node
    },
    async settle() {
      for (const node of nodes) await quiesce(node.server, 300)
    },
    stop,
  }
}
