import type { Server } from 'node:http'
import type { Socket } from 'node:net'

export interface SocketGuardOptions {
  /** Time a new connection has to deliver its first request's headers. */
  readonly firstRequestMs: number
  /** Open TCP connections in all; Node closes any beyond at once. */
  readonly maxConnections: number
  /** A connection was closed: over the limit, or idle before its first request (metrics). */
  readonly onDropped?: (reason: 'limit' | 'idle') => void
}

/**
 * Bounds what a connection that never asks for anything can hold (SPEC R30). Node times out
 * requests whose headers started arriving, but a socket that sends nothing (or sends a byte and
 * stops before a parser sees a request) would stay open for ever, and enough of them exhaust the
 * process's file descriptors: each connection must complete its first request's headers within
 * `firstRequestMs`, and the server holds at most `maxConnections` at once.
 */
export function guardSockets(server: Server, options: SocketGuardOptions): { readonly openSockets: number } {
  const deadlines = new WeakMap<Socket, NodeJS.Timeout>()
  let openSockets = 0
  server.maxConnections = options.maxConnections
  server.on('drop', () => options.onDropped?.('limit'))
  // Shared listeners, the socket as `this` or argument: what an open connection keeps of this
  // guard is one map entry until its first request, not a closure and a timer for its lifetime.
  const expire = (socket: Socket): void => {
    deadlines.delete(socket)
    options.onDropped?.('idle')
    socket.destroy()
  }
  function onClose(this: Socket): void {
    openSockets -= 1
    clearTimeout(deadlines.get(this))
    deadlines.delete(this)
  }
  server.on('connection', (socket: Socket) => {
    openSockets += 1
    deadlines.set(socket, setTimeout(expire, options.firstRequestMs, socket))
    socket.on('close', onClose)
  })
  const served = (request: { readonly socket: Socket }): void => {
    clearTimeout(deadlines.get(request.socket))
    deadlines.delete(request.socket)
  }
  server.on('request', served)
  server.on('upgrade', served)
  return {
    get openSockets() {
      return openSockets
    },
  }
}
