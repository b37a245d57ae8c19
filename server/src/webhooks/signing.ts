import { createHmac, randomBytes } from 'node:crypto'

const SECRET_PREFIX = 'whsec_'
const SECRET_BYTES = 32
/** The Standard Webhooks specification allows 24 to 64 bytes of key. */
const MIN_SECRET_BYTES = 24
const MAX_SECRET_BYTES = 64

/** A new endpoint secret, `whsec_<base64 of 32 random bytes>` (Standard Webhooks). */
export function newEndpointSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64')
}

/** Whether `secret` is a usable `whsec_` secret (an operator may bring one in WEBHOOK_SECRET). */
export function isValidEndpointSecret(secret: string): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) return false
  const encoded = secret.slice(SECRET_PREFIX.length)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return false
  const bytes = Buffer.from(encoded, 'base64').byteLength
  return bytes >= MIN_SECRET_BYTES && bytes <= MAX_SECRET_BYTES
}

/**
 * The three Standard Webhooks headers for one attempt (SPEC R42). `webhook-id` is the delivery's
 * id and never changes; the timestamp is the attempt's own, because receivers reject signatures
 * older than a few minutes and a retry can come hours later.
 */
export function signedHeaders(
  secret: string,
  webhookId: string,
  timestampSeconds: number,
  body: string,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
  const mac = createHmac('sha256', key).update(`${webhookId}.${timestampSeconds}.${body}`).digest('base64')
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${mac}`,
  }
}
