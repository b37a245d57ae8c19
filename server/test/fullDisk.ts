import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, open, rm, rmdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * A real filesystem that a test can fill up and free again (SPEC R57): a small tmpfs, or an ext4
 * image on a loop device (closer to a disk: blocks, a journal, delayed allocation). Mounting needs
 * root; `mountSmallFilesystem` says why it could not mount instead of throwing, so a test can skip
 * with that reason or fall back to a file-size limit (`setFileSizeLimit`).
 */
export interface SmallFilesystem {
  readonly kind: FilesystemKind
  /** An empty directory on the filesystem. */
  readonly dir: string
  /** Writes a filler file until not one more byte fits (ENOSPC). */
  fill(): Promise<void>
  /** Removes the filler: the space is back. */
  free(): Promise<void>
  /** Unmounts (lazily, if a process still holds a file open) and removes the mount point. */
  unmount(): Promise<void>
}

export type FilesystemKind = 'tmpfs' | 'ext4'

/** Mounts a fresh filesystem of `bytes`, or resolves with the reason it cannot. */
export async function mountSmallFilesystem(
  kind: FilesystemKind,
  bytes: number,
): Promise<SmallFilesystem | string> {
  if (process.platform !== 'linux') return `${kind}: mounting is Linux-only here`
  if (process.getuid?.() !== 0) return `${kind}: mounting needs root`
  const base = await mkdtemp(join(tmpdir(), `tandem-${kind}-`))
  const mountPoint = join(base, 'mnt')
  await mkdir(mountPoint)
  const image = join(base, 'disk.img')
  try {
    if (kind === 'tmpfs') {
      await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', mountPoint])
    } else {
      await run('truncate', ['-s', String(bytes), image])
      // No blocks reserved for root: the server runs as root here and would write into them.
      await run('mkfs.ext4', ['-q', '-F', '-m', '0', image])
      await run('mount', ['-o', 'loop', image, mountPoint])
    }
  } catch (error) {
    await rm(base, { recursive: true, force: true })
    return `${kind}: cannot mount (${firstLine(error)})`
  }
  const dir = join(mountPoint, 'data')
  await mkdir(dir)
  const filler = join(mountPoint, 'filler')
  return {
    kind,
    dir,
    async fill() {
      const handle = await open(filler, 'a')
      try {
        // Big chunks first, then smaller ones, down to single bytes: every free byte is taken.
        for (const size of [1 << 20, 64 << 10, 4 << 10, 256, 1]) {
          const chunk = Buffer.alloc(size, 0xff)
          for (;;) {
            try {
              await handle.write(chunk)
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break
              throw error
            }
          }
        }
      } finally {
        await handle.close()
      }
    },
    free: () => rm(filler, { force: true }),
    async unmount() {
      await run('umount', [mountPoint]).catch(() => run('umount', ['-l', mountPoint]))
      await rmdir(mountPoint).catch(() => undefined)
      await rm(base, { recursive: true, force: true })
    },
  }
}

/**
 * Sets the soft RLIMIT_FSIZE of a running process (`prlimit`, util-linux): a write past `bytes`
 * fails with EFBIG (Node ignores SIGXFSZ). `null` lifts the limit. The hard limit is left
 * unlimited, so no root is needed. Resolves with the reason when `prlimit` cannot do it.
 */
export async function setFileSizeLimit(pid: number, bytes: number | null): Promise<string | null> {
  try {
    await run('prlimit', ['--pid', String(pid), `--fsize=${bytes ?? 'unlimited'}:unlimited`])
    return null
  } catch (error) {
    return `file-size limit: prlimit failed (${firstLine(error)})`
  }
}

function firstLine(error: unknown): string {
  const text =
    (error as { stderr?: string }).stderr || (error instanceof Error ? error.message : String(error))
  return text.trim().split('\n')[0] ?? ''
}
