import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const SECRET_FILE = 'link-secret'

/**
 * The server secret that signs share links: from config when given, else generated once and kept
 * in DATA_DIR (mode 0600) so links survive restarts (SPEC R18).
 */
export async function loadLinkSecret(dataDir: string, configured: string | null): Promise<Uint8Array> {
  if (configured !== null) return Buffer.from(configured, 'utf8')
  const path = join(dataDir, SECRET_FILE)
  try {
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'hex')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const secret = randomBytes(32)
  try {
    await writeFile(path, secret.toString('hex'), { mode: 0o600, flag: 'wx' })
    return secret
  } catch (error) {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadLinkSecret(dataDir, configured)
    throw error
  }
}
