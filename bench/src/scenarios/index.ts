import { fanout } from './fanout.ts'
import { join } from './join.ts'
import { memory } from './memory.ts'
import { tandemOnly } from './tandem.ts'
import { throughput } from './throughput.ts'
import { trace } from './trace.ts'
import type { Scenario } from './types.ts'

/** Every scenario, in report order (the numbering of issue 6). */
export const SCENARIOS: readonly Scenario[] = [fanout, throughput, memory, join, trace, tandemOnly]
