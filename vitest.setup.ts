import fc from 'fast-check'

/**
 * Every fast-check property runs from one seed, fixed unless `FUZZ_SEED` says otherwise, so a
 * failure on one machine is a failure on every machine and a green run means the same inputs
 * passed. `FUZZ_SEED=<integer>` replays a run; `FUZZ_SEED=random` explores new inputs
 * (vitest.config.ts draws the seed once and prints it). A failing property prints its seed and
 * counterexample path as well. A property that passes its own `seed` overrides this one.
 */
const DEFAULT_SEED = 1354

function seedOf(requested: string | undefined): number {
  if (requested === undefined || requested === '') return DEFAULT_SEED
  const seed = Number(requested)
  if (!Number.isSafeInteger(seed))
    throw new Error(`FUZZ_SEED must be an integer or "random", not "${requested}"`)
  return seed
}

fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: seedOf(process.env.FUZZ_SEED) })
