import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * Whether `given` is ADMIN_API_KEY. Both sides are hashed first so the comparison is constant-time
 * whatever their lengths; with no key configured nothing is the admin key.
 */
export function isAdminKey(given: string | null, adminApiKey: string | null): boolean {
  if (given === null || adminApiKey === null) return false
  return timingSafeEqual(digest(given), digest(adminApiKey))
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
