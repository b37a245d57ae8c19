import { configDefaults, defineConfig } from 'vitest/config'

/**
 * Three projects, all run by `npm test` (`vitest run`); `--project <name>` runs one (README
 * "Tests"):
 * - `unit`: in-process and fast, the minute-long loop of `npm run test:fast`;
 * - `integration`: real servers on port 0 and real sockets, over real time;
 * - `soak`: what takes its time on purpose — floods, kill -9 loops, full disks, timeouts of
 *   seconds that the rules name (10 s idle sockets), webhook backoff timing.
 */
const SOAK = [
  'server/test/integration/memory.test.ts',
  'server/test/integration/crash.test.ts',
  'server/test/integration/diskFull.test.ts',
  'server/test/integration/idleSockets.test.ts',
  'server/test/integration/webhooksRetryTiming.test.ts',
  'server/test/integration/clusterFaults.test.ts',
]

/** The provider against real servers and TCP paths that go silent: integration, not unit. */
const CLIENT_NETWORK = ['client/test/syncProviderNetwork.test.ts']

/**
 * `FUZZ_SEED=random`: one seed for the whole run, drawn once and printed so the run replays with
 * `FUZZ_SEED=<seed>`. Written back into the environment because vitest evaluates this file more
 * than once (once per project) and the test workers inherit it. Unset: vitest.setup.ts's fixed
 * seed.
 */
if (process.env.FUZZ_SEED === 'random') {
  process.env.FUZZ_SEED = String(Math.floor(Math.random() * 2 ** 31))
  console.info(
    `fast-check: random seed ${process.env.FUZZ_SEED} (FUZZ_SEED=${process.env.FUZZ_SEED} replays this run)`,
  )
}

export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    setupFiles: ['./vitest.setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['shared/test/**/*.test.ts', 'client/test/**/*.test.ts', 'server/test/*.test.ts'],
          exclude: [...configDefaults.exclude, ...CLIENT_NETWORK],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['server/test/integration/**/*.test.ts', ...CLIENT_NETWORK],
          exclude: [...configDefaults.exclude, ...SOAK],
        },
      },
      {
        extends: true,
        test: { name: 'soak', include: SOAK },
      },
    ],
  },
})
