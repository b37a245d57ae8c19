import { randomBytes } from 'node:crypto'
import { startBalancer, type Balancer } from './balancer.ts'
import { startServer, type TandemServer } from './server.ts'
import { createTestDatabase, type TestDatabase } from './testDatabase.ts'

/** The machine's Redis; each cluster keeps to its own key prefix (SPEC R65, R66). */
const REDIS_URL = 'redis://127.0.0.1:6379'

/**
 * Several Tandem processes on one fresh PostgreSQL database and one Redis prefix (SPEC R64–R66),
 * each with its own data directory and NODE_NAME, behind a balancer without sticky sessions.
 */
export interface TandemCluster {
  /** Node `i` is `node${i + 1}`; a killed one stays in the list (its URL no longer answers). */
  readonly nodes: readonly TandemServer[]
  readonly balancer: Balancer
  readonly redisPrefix: string
  node(index: number): TandemServer
  isUp(index: number): boolean
  /** SIGKILL, as a crash or an OOM kill does; the balancer sends the node nothing new from now on. */
  kill(index: number): Promise<void>
  /** Every node's recent output, labelled, for failure reports. */
  logs(): string
  /** Closes the balancer, stops the live nodes (each must exit 0 on SIGTERM), drops the database. */
  dispose(): Promise<void>
}

export async function startCluster(size: number): Promise<TandemCluster> {
  const database = await createTestDatabase()
  const redisPrefix = `tandem-e2e-${randomBytes(4).toString('hex')}:`
  const nodes: TandemServer[] = []
  const isDown: boolean[] = []
  const start = (index: number): Promise<TandemServer> =>
    startServer({
      env: {
        DATABASE_URL: database.url,
        REDIS_URL,
        REDIS_PREFIX: redisPrefix,
        NODE_NAME: `node${index + 1}`,
      },
    })
  try {
    // Side by side, as a deploy starts them: whichever is first runs the migrations, the others
    // wait on its advisory lock (R64).
    const started = await Promise.allSettled(Array.from({ length: size }, (_, index) => start(index)))
    for (const outcome of started) if (outcome.status === 'fulfilled') nodes.push(outcome.value)
    const failed = started.find((outcome) => outcome.status === 'rejected')
    if (failed) throw failed.reason
  } catch (error) {
    await disposeAll(nodes, null, database)
    throw error
  }
  const balancer = await startBalancer(() =>
    nodes.map((node, index) => ({ port: Number(new URL(node.url).port), isUp: !isDown[index] })),
  )

  const node = (index: number): TandemServer => {
    const found = nodes[index]
    if (!found) throw new Error(`the cluster has no node ${index + 1}`)
    return found
  }
  return {
    nodes,
    balancer,
    redisPrefix,
    node,
    isUp: (index) => !isDown[index],
    async kill(index) {
      isDown[index] = true
      await node(index).kill()
    },
    logs: () => nodes.map((each, index) => `--- node${index + 1} ---\n${each.logs()}`).join('\n'),
    dispose: () => disposeAll(nodes, balancer, database),
  }
}

/** Everything is torn down even when a step fails; the first failure is rethrown at the end. */
async function disposeAll(
  nodes: readonly TandemServer[],
  balancer: Balancer | null,
  database: TestDatabase,
): Promise<void> {
  const outcomes = [
    ...(await Promise.allSettled([balancer?.close(), ...nodes.map((node) => node.dispose())])),
    // After the nodes, whose pools would otherwise be cut mid-statement.
    ...(await Promise.allSettled([database.drop()])),
  ]
  const failed = outcomes.find((outcome) => outcome.status === 'rejected')
  if (failed) throw failed.reason
}
