import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net'

/** What the proxy does to new traffic; switchable while connections are open. */
export type FaultMode =
  | { readonly kind: 'pass' }
  /** Every chunk reaches the other side `ms` later than it arrived, in each direction, in order. */
  | { readonly kind: 'latency'; readonly ms: number }
  /** Nothing gets through and nobody is told; what was held is delivered when the stall ends. */
  | { readonly kind: 'stall' }
  /** The path is gone: every connection open now or opened until pass() is silent forever. */
  | { readonly kind: 'blackhole' }
  /** Every connection is cut when this starts; new ones are accepted and dropped at once. */
  | { readonly kind: 'refuse' }

/** What the proxy did, so a test can show that its fault really applied. */
export interface FaultCounts {
  /** Connections accepted from the browser (refused ones included). */
  accepted: number
  /** Connections dropped on arrival while refusing. */
  refused: number
  /** Open connections cut when refusing began. */
  cut: number
  /** Connections silenced for good: by halfOpen() (browser side destroyed) or by a blackhole. */
  silenced: number
  /** Of the silenced ones that reached the server, how many the server itself closed later. */
  serverGaveUp: number
  /** Bytes a blackhole swallowed. */
  droppedBytes: number
  /** Chunks (and FINs) held by a stall. */
  heldChunks: number
  /** Chunks delayed by latency. */
  delayedChunks: number
  /** Connections that found no server behind the proxy (it was down): the browser's side is reset. */
  upstreamFailures: number
}

/** A TCP proxy in front of a server, in this process, on a free port. */
export interface FaultProxy {
  /** e.g. `http://127.0.0.1:41235`: open pages here to go through the proxy. */
  readonly url: string
  readonly mode: FaultMode
  readonly counts: Readonly<FaultCounts>
  pass(): void
  latency(ms: number): void
  /**
   * A short outage on the same path: TCP retransmits, so nothing is lost; what was sent during
   * the stall (FINs included) arrives, in order, when it ends. A connection dropped before the
   * stall ended that had not reached the server never does (its SYN was lost).
   */
  stall(): void
  /**
   * The path dies (NAT rebinding, a new network, a sleeping laptop): open connections go silent in
   * both directions for good, without FIN or reset; neither end is told, even after pass().
   * Connections opened during it are silent too; after pass(), new ones work.
   */
  blackhole(): void
  refuse(): void
  /**
   * A Wi-Fi switch: every browser-side socket dies now, and the server side of each stays open
   * and silent (no FIN, no bytes, never ended) until close().
   */
  halfOpen(): void
  /** Stops listening and destroys every socket, silenced ones included. */
  close(): Promise<void>
}

type Item = Buffer | 'end' | 'destroy'

/** One direction of one connection: a FIFO that delivers its head once due (null: held). */
class Lane {
  readonly #queue: Array<{ item: Item; dueAtMs: number | null }> = []
  #timer: NodeJS.Timeout | undefined
  #target: Socket | null = null
  #isDead = false

  /** Starts delivering into `target` (the server side connects lazily). */
  attach(target: Socket): void {
    this.#target = target
    this.pump()
  }

  push(item: Item, dueAtMs: number | null): void {
    if (this.#isDead) return
    const last = this.#queue.at(-1)?.dueAtMs
    // Order is kept: nothing overtakes an item queued before it.
    const due = dueAtMs === null ? null : Math.max(dueAtMs, last ?? 0)
    this.#queue.push({ item, dueAtMs: due })
    this.pump()
  }

  /** Held items become due now (a stall ended). */
  release(): void {
    for (const queued of this.#queue) queued.dueAtMs ??= Date.now()
    this.pump()
  }

  /** Nothing more is delivered, ever. */
  kill(): void {
    this.#isDead = true
    this.#queue.length = 0
    clearTimeout(this.#timer)
  }

  pump(): void {
    clearTimeout(this.#timer)
    const target = this.#target
    while (!this.#isDead && target !== null && this.#queue.length > 0) {
      const head = this.#queue[0]!
      if (head.dueAtMs === null) return
      const waitMs = head.dueAtMs - Date.now()
      if (waitMs > 0) {
        this.#timer = setTimeout(() => this.pump(), waitMs)
        return
      }
      this.#queue.shift()
      if (head.item === 'end') target.end()
      else if (head.item === 'destroy') target.destroy()
      else if (!target.destroyed) target.write(head.item)
    }
  }
}

interface Link {
  readonly browser: Socket
  server: Socket | null
  readonly toServer: Lane
  readonly toBrowser: Lane
  state: 'relaying' | 'silent' | 'gone'
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port: targetPort } = new URL(target)
  const host = hostname === 'localhost' ? '127.0.0.1' : hostname
  let mode: FaultMode = { kind: 'pass' }
  const counts: FaultCounts = {
    accepted: 0,
    refused: 0,
    cut: 0,
    silenced: 0,
    serverGaveUp: 0,
    droppedBytes: 0,
    heldChunks: 0,
    delayedChunks: 0,
    upstreamFailures: 0,
  }
  const links = new Set<Link>()
  /** Silenced sockets, kept open (and read, to notice the server giving up) until close(). */
  const silent = new Set<Socket>()

  /** When an item arriving now may be delivered under the current mode. */
  const dueAt = (): number | null => {
    switch (mode.kind) {
      case 'pass':
      case 'refuse':
      case 'blackhole':
        return Date.now()
      case 'latency':
        counts.delayedChunks += 1
        return Date.now() + mode.ms
      case 'stall':
        counts.heldChunks += 1
        return null
    }
  }

  const drop = (link: Link): void => {
    link.state = 'gone'
    links.delete(link)
    link.toServer.kill()
    link.toBrowser.kill()
    link.browser.destroy()
    link.server?.destroy()
  }

  /** From now on this connection carries nothing, and neither end is told. */
  const silence = (link: Link): void => {
    counts.silenced += 1
    link.state = 'silent'
    links.delete(link)
    link.toServer.kill()
    link.toBrowser.kill()
    for (const socket of [link.browser, link.server]) if (socket !== null) silent.add(socket)
  }

  const connectUpstream = (link: Link): void => {
    const server = createConnection({ host, port: Number(targetPort), allowHalfOpen: true })
    link.server = server
    server.setNoDelay(true)
    let isConnected = false
    let hasGivenUp = false
    server.on('connect', () => {
      isConnected = true
      link.toServer.attach(server)
    })
    server.on('data', (chunk: Buffer) => {
      if (link.state === 'relaying') link.toBrowser.push(chunk, dueAt())
      else if (link.state === 'silent') counts.droppedBytes += chunk.length
    })
    server.on('error', () => {
      if (!isConnected) counts.upstreamFailures += 1
    })
    // A FIN or reset on a silenced connection is the server giving up on it.
    const onServerEnd = (item: 'end' | 'destroy'): void => {
      if (link.state === 'relaying') link.toBrowser.push(item, dueAt())
      if (link.state !== 'silent' || hasGivenUp) return
      hasGivenUp = true
      counts.serverGaveUp += 1
    }
    server.on('end', () => onServerEnd('end'))
    server.on('close', () => {
      onServerEnd('destroy')
      silent.delete(server)
    })
  }

  const listener = createServer({ allowHalfOpen: true }, (browser) => {
    counts.accepted += 1
    browser.on('error', () => {})
    if (mode.kind === 'refuse') {
      counts.refused += 1
      browser.destroy()
      return
    }
    browser.setNoDelay(true)
    const link: Link = {
      browser,
      server: null,
      toServer: new Lane(),
      toBrowser: new Lane(),
      state: 'relaying',
    }
    links.add(link)
    link.toBrowser.attach(browser)
    browser.on('data', (chunk: Buffer) => {
      if (link.state === 'relaying') link.toServer.push(chunk, dueAt())
      else if (link.state === 'silent') counts.droppedBytes += chunk.length
    })
    browser.on('end', () => {
      if (link.state === 'relaying') link.toServer.push('end', dueAt())
    })
    browser.on('close', () => {
      silent.delete(browser)
      if (link.state !== 'relaying') return
      // Gone before a stall ended: this connection never reached the server (its SYN was lost).
      if (link.server === null) drop(link)
      else link.toServer.push('destroy', dueAt())
    })
    // The SYN is lost too: the server hears of this connection when a stall ends, or never.
    if (mode.kind === 'blackhole') silence(link)
    else if (mode.kind !== 'stall') connectUpstream(link)
  })

  const setMode = (next: FaultMode): void => {
    mode = next
    if (next.kind !== 'pass' && next.kind !== 'latency') return
    for (const link of links) {
      if (link.server === null) connectUpstream(link)
      link.toServer.release()
      link.toBrowser.release()
    }
  }

  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject)
    listener.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = listener.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    get mode() {
      return mode
    },
    counts,
    pass: () => setMode({ kind: 'pass' }),
    latency: (ms) => setMode({ kind: 'latency', ms }),
    stall: () => setMode({ kind: 'stall' }),
    blackhole() {
      setMode({ kind: 'blackhole' })
      for (const link of [...links]) silence(link)
    },
    refuse() {
      setMode({ kind: 'refuse' })
      for (const link of [...links]) {
        counts.cut += 1
        drop(link)
      }
    },
    halfOpen() {
      for (const link of [...links]) {
        if (link.server === null) drop(link)
        else {
          silence(link)
          link.browser.destroy()
        }
      }
    },
    close() {
      for (const link of [...links]) drop(link)
      for (const socket of silent) socket.destroy()
      silent.clear()
      return new Promise((resolve) => listener.close(() => resolve()))
    },
  }
}
