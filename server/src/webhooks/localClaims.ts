import { randomBytes } from 'node:crypto'
import type { ClaimTicket } from './OutboxStore.ts'

/**
 * Claims of a store only this process uses (LevelDB, memory): kept in memory, because the only
 * attempts that can hold one are this process's, and they end with it. A restart therefore finds
 * every pending delivery unclaimed and sends it again at once, under its id (R44).
 */
export class LocalClaims {
  readonly #tickets = new Map<string, ClaimTicket>()

  /** Whether a claim of the delivery holds at `now`. */
  isHeld(endpointId: string, deliveryId: string, now: number): boolean {
    const ticket = this.#tickets.get(key(endpointId, deliveryId))
    return ticket !== undefined && ticket.until > now
  }

  take(endpointId: string, deliveryId: string, now: number, leaseMs: number): ClaimTicket {
    const ticket: ClaimTicket = {
      endpointId,
      deliveryId,
      token: randomBytes(8).toString('hex'),
      until: now + leaseMs,
    }
    this.#tickets.set(key(endpointId, deliveryId), ticket)
    return ticket
  }

  /** Whether `ticket` is still the delivery's latest claim (expired but not taken over counts). */
  isCurrent(ticket: ClaimTicket): boolean {
    return this.#tickets.get(key(ticket.endpointId, ticket.deliveryId))?.token === ticket.token
  }

  drop(endpointId: string, deliveryId: string): void {
    this.#tickets.delete(key(endpointId, deliveryId))
  }

  dropEndpoint(endpointId: string): void {
    for (const ticket of this.#tickets.values())
      if (ticket.endpointId === endpointId) this.drop(endpointId, ticket.deliveryId)
  }
}

function key(endpointId: string, deliveryId: string): string {
  return `${endpointId}!${deliveryId}`
}
