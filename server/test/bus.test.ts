import { MemoryBusNetwork } from '../src/cluster/MemoryBus.ts'
import { busContract } from './busContract.ts'

busContract('in-process network', () => {
  const network = new MemoryBusNetwork()
  const [a, b] = [network.connect(), network.connect()]
  return Promise.resolve({
    a,
    b,
    cut: () => b.cut(),
    dispose: async () => {
      await a.close()
      await b.close()
    },
  })
})
