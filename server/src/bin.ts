import { ConfigError, configFromProcessEnv } from './config.ts'
import { startServer } from './main.ts'
import { StoreLockedError } from './persistence/LevelStore.ts'

try {
  const config = configFromProcessEnv()
  const server = await startServer(config)
  console.log(`Tandem is running: open ${server.url}`)
  let signals = 0
  const stop = (): void => {
    signals += 1
    if (signals > 1) process.exit(1)
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('shutdown failed:', error)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
} catch (error) {
  if (error instanceof ConfigError || error instanceof StoreLockedError) {
    console.error(`tandem: ${error.message}`)
    process.exit(2)
  }
  throw error
}
