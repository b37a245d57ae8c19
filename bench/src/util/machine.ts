import { cpus, loadavg, release, totalmem } from 'node:os'
import type { MachineInfo } from '../schema.ts'

export function machineInfo(loadAtStart: number): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
    loadAtStart,
    loadAtEnd: loadavg()[0] ?? NaN,
  }
}

export function currentLoad(): number {
  return loadavg()[0] ?? NaN
}
