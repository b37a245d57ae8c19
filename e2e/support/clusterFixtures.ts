import { startCluster, type TandemCluster } from './cluster.ts'
import { expect, provideActors, test as base } from './fixtures.ts'
import { startProxy, type ProxyModes, type RestrictiveProxy } from './proxy.ts'

/** Three nodes: enough that a node can die while two others still serve different people. */
const CLUSTER_SIZE = 3
/** Start and teardown of the cluster: each server may take 30 s to be ready (support/server.ts). */
const CLUSTER_TIMEOUT_MS = 60_000

interface ClusterFixtures {
  /**
   * A fresh cluster (its own database and Redis prefix), torn down after the test. With it,
   * `baseURL`, `createDoc`, `serverText` and `newActor` go through its balancer; no single
   * server is started.
   */
  cluster: TandemCluster
  /** Starts a restrictive proxy (support/proxy.ts) in front of `target`; all close after the test. */
  startProxyTo: (target: string, modes?: Partial<ProxyModes>) => Promise<RestrictiveProxy>
  /** The document's plain text as the node at `nodeUrl` serves it (`GET /api/docs/:id/text`). */
  nodeText: (nodeUrl: string, docId: string, token: string) => Promise<string>
}

export const test = base.extend<ClusterFixtures>({
  // A timeout of its own: starting three servers is not the test's time, which stays its own 60 s.
  cluster: [
    // Playwright reads fixture dependencies from the destructuring pattern, so it must be there.
    // eslint-disable-next-line no-empty-pattern
    async ({}, use, testInfo) => {
      const cluster = await startCluster(CLUSTER_SIZE)
      try {
        await use(cluster)
      } finally {
        if (testInfo.status !== testInfo.expectedStatus) {
          await testInfo.attach('cluster.log', { body: cluster.logs(), contentType: 'text/plain' })
        }
        await cluster.dispose()
      }
    },
    { timeout: CLUSTER_TIMEOUT_MS },
  ],

  baseURL: async ({ cluster }, use) => {
    await use(cluster.balancer.url)
  },

  newActor: ({ browser, cluster }, use) => provideActors(browser, cluster.balancer.url, use),

  // eslint-disable-next-line no-empty-pattern
  startProxyTo: async ({}, use) => {
    const proxies: RestrictiveProxy[] = []
    await use(async (target, modes) => {
      const proxy = await startProxy(target, modes)
      proxies.push(proxy)
      return proxy
    })
    await Promise.all(proxies.map((proxy) => proxy.close()))
  },

  nodeText: async ({ request }, use) => {
    await use(async (nodeUrl, docId, token) => {
      const response = await request.get(new URL(`/api/docs/${docId}/text`, nodeUrl).toString(), {
        headers: { Authorization: `Bearer ${token}` },
      })
      if (response.status() !== 200) throw new Error(`${nodeUrl} answered ${response.status()} for the text`)
      return response.text()
    })
  },
})

export { expect }
