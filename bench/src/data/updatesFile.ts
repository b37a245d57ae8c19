import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import * as encoding from 'lib0/encoding'

/** Updates as lib0 varUint8Arrays back to back: what the workers' `send` and `replay` read. */
export async function writeUpdatesFile(file: string, updates: readonly Uint8Array[]): Promise<void> {
  const encoder = encoding.createEncoder()
  for (const update of updates) encoding.writeVarUint8Array(encoder, update)
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, encoding.toUint8Array(encoder))
}

/** A value computed once and kept as JSON in the cache directory (regenerated when missing). */
export async function cached<T>(file: string, make: () => Promise<T>): Promise<T> {
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as T
  const value = await make()
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, JSON.stringify(value))
  return value
}
