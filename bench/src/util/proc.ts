import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'

/** Kernel clock ticks per second, the unit of /proc CPU times (almost always 100). */
const CLK_TCK = ((): number => {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isFinite(value) && value > 0 ? value : 100
  } catch {
    return 100
  }
})()

/** CPU time (user + system) a process has used, in ms, from /proc/<pid>/stat; NaN once it is gone. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may contain spaces; fields after its closing ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    return ((utime + stime) * 1000) / CLK_TCK
  } catch {
    return NaN
  }
}

/** Resident set size of a process in bytes, from /proc/<pid>/status; NaN once it is gone. */
export function processRssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match?.[1] ? Number(match[1]) * 1024 : NaN
  } catch {
    return NaN
  }
}

export interface SystemCpu {
  readonly busyMs: number
  readonly totalMs: number
}

/** All CPUs together, from the first line of /proc/stat. */
export function systemCpu(): SystemCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
  const ticks = line.trim().split(/\s+/).slice(1).map(Number)
  const total = ticks.reduce((sum, value) => sum + value, 0)
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0)
  return { busyMs: ((total - idle) * 1000) / CLK_TCK, totalMs: (total * 1000) / CLK_TCK }
}

export const CORES = cpus().length

/** CPU used over a window, as % of one core, and how busy the whole machine was. */
export interface CpuUsage {
  /** The server process, % of one core. */
  readonly serverPct: number
  /** All load-generator processes together, % of one core. */
  readonly clientPct: number
  /** The busiest single load-generator process, % of one core. */
  readonly maxClientPct: number
  /** Every CPU of the machine, % of all cores (100 = every core busy the whole window). */
  readonly machinePct: number
  /** Work on the machine that was neither the server nor the generators (other users), % of one core. */
  readonly foreignPct: number
}

export interface CpuWindow {
  stop(): CpuUsage
}

/** Starts measuring CPU of the server and generator processes (and the harness itself). */
export function startCpuWindow(serverPid: number, clientPids: readonly number[]): CpuWindow {
  const startedAt = performance.now()
  const server0 = processCpuMs(serverPid)
  const clients0 = clientPids.map(processCpuMs)
  const self0 = processCpuMs(process.pid)
  const system0 = systemCpu()
  return {
    stop() {
      const elapsedMs = Math.max(1, performance.now() - startedAt)
      const server = processCpuMs(serverPid) - server0
      const clients = clientPids.map((pid, index) => processCpuMs(pid) - (clients0[index] ?? 0))
      const self = processCpuMs(process.pid) - self0
      const system = systemCpu()
      const busy = system.busyMs - system0.busyMs
      const total = Math.max(1, system.totalMs - system0.totalMs)
      const clientSum = clients.reduce((sum, value) => sum + value, 0)
      const pct = (ms: number): number => (100 * ms) / elapsedMs
      return {
        serverPct: pct(server),
        clientPct: pct(clientSum),
        maxClientPct: pct(Math.max(0, ...clients)),
        machinePct: (100 * busy) / total,
        foreignPct: Math.max(0, ((100 * busy) / total) * CORES - pct(server + clientSum + self)),
      }
    },
  }
}
