// Loaded into every server process the bench starts (`node --expose-gc --import <this>`), so the
// harness can read the V8 heap of any peer the same way without touching its code: on request it
// collects garbage and answers with process.memoryUsage() over the IPC channel, or writes a heap
// snapshot.
import process from 'node:process'
import { writeHeapSnapshot } from 'node:v8'

if (process.send) {
  process.on('message', (message) => {
    if (message?.type === 'bench:memory') {
      globalThis.gc?.()
      globalThis.gc?.()
      process.send?.({ type: 'bench:memory', ...process.memoryUsage() })
    } else if (message?.type === 'bench:heap-snapshot') {
      process.send?.({ type: 'bench:heap-snapshot', file: writeHeapSnapshot(message.file) })
    }
  })
  // The channel must not keep a server alive that would otherwise exit.
  process.channel?.unref()
}
