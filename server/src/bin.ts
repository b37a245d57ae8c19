import { ConfigError, configFromProcessEnv } from './config.ts'
import { startServer } from './main.ts'
import { StoreLockedError } from './persistence/LevelStore.ts'

// Handlers go in before anything starts, so a signal during startup still shuts down cleanly.
let stopRequested: (() => void) | null = null
const whenStopRequested = new Promise<void>((resolve) => (stopRequested = resolve))
let signals = 0
const onSignal = (): void => {
  signals += 1
  if (signals > 1) process.exit(1)
  stopRequested?.()
}
process.on('SIGTERM', onSignal)
process.on('SIGINT', onSignal)

try {
  const server = await startServer(configFromProcessEnv())
  console.log(`Tandem is running: open ${server.url}`)
  await whenStopRequested
  await server.close()
  process.exit(0)
} catch (error) {
  if (error instanceof ConfigError || error instanceof StoreLockedError) {
    console.error(`tandem: ${error.message}`)
    process.exit(2)
  }
  console.error('tandem: failed:', error)
  process.exit(1)
}
