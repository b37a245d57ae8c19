import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { REPO_ROOT } from '../paths.ts'
import type { Answers, Command, Reply, Request } from './rpc.ts'

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void }

/** Load-generator processes and a typed request/answer channel to each (IPC, structured clone). */
export class WorkerPool {
  readonly #workers: ChildProcess[]
  readonly #pending = new Map<number, Pending>()
  #nextId = 0

  private constructor(workers: ChildProcess[]) {
    this.#workers = workers
    for (const worker of workers) {
      worker.on('message', (reply: Reply) => {
        const pending = this.#pending.get(reply.id)
        if (!pending) return
        this.#pending.delete(reply.id)
        if (reply.ok) pending.resolve(reply.value)
        else pending.reject(new Error(`worker ${worker.pid}: ${reply.error}`))
      })
      worker.on('exit', (code) => {
        for (const pending of this.#pending.values()) pending.reject(new Error(`worker exited with ${code}`))
        this.#pending.clear()
      })
    }
  }

  static async start(count: number): Promise<WorkerPool> {
    const workers = Array.from({ length: count }, () =>
      fork(WORKER, [], {
        cwd: REPO_ROOT,
        execArgv: ['--import', 'tsx'],
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    )
    const pool = new WorkerPool(workers)
    // Loaded and answering before anything is timed.
    await pool.all({ op: 'failures' })
    return pool
  }

  get size(): number {
    return this.#workers.length
  }

  get pids(): number[] {
    return this.#workers.map((worker) => worker.pid ?? -1)
  }

  call<C extends Command>(index: number, command: C): Promise<Answers[C['op']]> {
    const worker = this.#workers[index % this.#workers.length]
    if (!worker) return Promise.reject(new Error('no workers'))
    const id = ++this.#nextId
    return new Promise<Answers[C['op']]>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      worker.send({ id, command } satisfies Request)
    })
  }

  all<C extends Command>(command: C): Promise<Array<Answers[C['op']]>> {
    return Promise.all(this.#workers.map((_, index) => this.call(index, command)))
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.#workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.exitCode !== null) return resolve()
            worker.once('exit', () => resolve())
            worker.disconnect()
          }),
      ),
    )
  }
}
