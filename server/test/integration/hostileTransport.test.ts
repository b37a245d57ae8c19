import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { CLOSE_REASONS, encodeMessage } from '@tandem/shared'
import type { SyncProvider } from '@tandem/client/sync'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createDoc, eventually, ourClient, text, type CreatedDoc } from './support/clients.ts'
import { startTestServer, type TestServer } from './support/testServer.ts'

/**
 * Hostile input sent for real, as raw bytes on a TCP socket, to a real server (STYLE.md 14). Each
 * case checks three things: the offender is refused (a close code or an HTTP status), the server
 * still answers, and two well-behaved clients of the same document stay connected and keep syncing
 * (R11: bad input affects only its sender; R30: transport limits).
 */

const MAX_MESSAGE_BYTES = 65_536
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9 } as const
const RSV1 = 0b100
const RSV2 = 0b010
const RSV3 = 0b001

const openSockets: Socket[] = []

afterEach(() => {
  for (const socket of openSockets.splice(0)) socket.destroy()
})

interface HttpAnswer {
  readonly status: number
  /** Header names in lower case. */
  readonly headers: ReadonlyMap<string, string>
  readonly body: Buffer
  /** Bytes after the answer: WebSocket frames once upgraded. */
  readonly rest: Buffer
}

interface ServerFrame {
  readonly isFinal: boolean
  readonly opcode: number
  readonly payload: Buffer
}

/** A TCP client that records every byte the server sends and whether it hung up. */
class RawSocket {
  #received = Buffer.alloc(0)
  #isEnded = false

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#received = Buffer.concat([this.#received, chunk])
    })
    socket.on('close', () => {
      this.#isEnded = true
    })
    // The server hanging up while we still write (EPIPE, ECONNRESET) is an outcome under test.
    socket.on('error', () => undefined)
  }

  static async connect(port: number): Promise<RawSocket> {
    const socket = connect(port, '127.0.0.1')
    openSockets.push(socket)
    await once(socket, 'connect')
    return new RawSocket(socket)
  }

  get received(): Buffer {
    return this.#received
  }

  /** The server closed the connection (or reset it). */
  get isEnded(): boolean {
    return this.#isEnded
  }

  /** Resolves once the bytes are handed to the kernel, or the socket failed; never rejects. */
  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve()
      this.socket.write(data, () => resolve())
    })
  }

  /** The server's HTTP answer, once complete; null if it hung up without one. */
  async answer(timeoutMs = 5_000): Promise<HttpAnswer | null> {
    await eventually(
      () => expect(parseHttpAnswer(this.#received, this.#isEnded) !== null || this.#isEnded).toBe(true),
      timeoutMs,
    )
    return parseHttpAnswer(this.#received, this.#isEnded)
  }

  /** WebSocket frames the server sent after its 101. */
  frames(): ServerFrame[] {
    const answer = parseHttpAnswer(this.#received, this.#isEnded)
    return answer?.status === 101 ? parseServerFrames(answer.rest) : []
  }

  /** The code of the server's close frame, or null if it hung up without sending one. */
  async closeCode(timeoutMs = 5_000): Promise<number | null> {
    const closeFrame = (): ServerFrame | undefined => this.frames().find((f) => f.opcode === OPCODE.close)
    await eventually(() => expect(closeFrame() !== undefined || this.#isEnded).toBe(true), timeoutMs)
    const payload = closeFrame()?.payload
    return payload && payload.length >= 2 ? payload.readUInt16BE(0) : null
  }

  destroy(): void {
    this.socket.destroy()
  }
}

function parseHttpAnswer(bytes: Buffer, isEnded: boolean): HttpAnswer | null {
  const headEnd = bytes.indexOf('\r\n\r\n')
  if (headEnd < 0) return null
  const [statusLine = '', ...lines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n')
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN)
  const headers = new Map<string, string>()
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  const after = bytes.subarray(headEnd + 4)
  if (status === 101) return { status, headers, body: Buffer.alloc(0), rest: after }
  const length = headers.get('content-length')
  if (length !== undefined) {
    if (after.length < Number(length))
      return isEnded ? { status, headers, body: after, rest: Buffer.alloc(0) } : null
    return { status, headers, body: after.subarray(0, Number(length)), rest: after.subarray(Number(length)) }
  }
  return isEnded ? { status, headers, body: after, rest: Buffer.alloc(0) } : null
}

/** Server frames are unmasked (RFC 6455 §5.1); an incomplete last frame is left out. */
function parseServerFrames(bytes: Buffer): ServerFrame[] {
  const frames: ServerFrame[] = []
  let offset = 0
  while (offset + 2 <= bytes.length) {
    const first = bytes.readUInt8(offset)
    let length = bytes.readUInt8(offset + 1) & 0x7f
    let header = 2
    if (length === 126) {
      if (offset + 4 > bytes.length) break
      length = bytes.readUInt16BE(offset + 2)
      header = 4
    } else if (length === 127) {
      if (offset + 10 > bytes.length) break
      length = Number(bytes.readBigUInt64BE(offset + 2))
      header = 10
    }
    if (offset + header + length > bytes.length) break
    frames.push({
      isFinal: (first & 0x80) !== 0,
      opcode: first & 0x0f,
      payload: bytes.subarray(offset + header, offset + header + length),
    })
    offset += header + length
  }
  return frames
}

interface FrameSpec {
  readonly opcode: number
  readonly payload?: Uint8Array
  readonly isFinal?: boolean
  /** RSV1..RSV3 as three bits, RSV1 highest. */
  readonly rsv?: number
  /** Clients must mask (RFC 6455 §5.3); false sends an unmasked frame. */
  readonly isMasked?: boolean
  /** A payload length for the header that differs from the payload actually sent. */
  readonly declaredLength?: bigint
}

/** Encodes one client frame byte by byte, including ones no library would produce. */
function clientFrame(spec: FrameSpec): Buffer {
  const payload = Buffer.from(spec.payload ?? new Uint8Array())
  const length = spec.declaredLength ?? BigInt(payload.length)
  const first = (spec.isFinal === false ? 0 : 0x80) | ((spec.rsv ?? 0) << 4) | spec.opcode
  const isMasked = spec.isMasked !== false
  const maskBit = isMasked ? 0x80 : 0
  let header: Buffer
  if (length < 126n) {
    header = Buffer.from([first, maskBit | Number(length)])
  } else if (length < 65_536n) {
    header = Buffer.alloc(4)
    header.writeUInt8(first, 0)
    header.writeUInt8(maskBit | 126, 1)
    header.writeUInt16BE(Number(length), 2)
  } else {
    header = Buffer.alloc(10)
    header.writeUInt8(first, 0)
    header.writeUInt8(maskBit | 127, 1)
    header.writeBigUInt64BE(length, 2)
  }
  if (!isMasked) return Buffer.concat([header, payload])
  const key = randomBytes(4)
  const masked = Buffer.alloc(payload.length)
  for (let i = 0; i < payload.length; i++) masked.writeUInt8(payload.readUInt8(i) ^ key.readUInt8(i % 4), i)
  return Buffer.concat([header, key, masked])
}

/** A well-formed y-websocket frame: what a real client would send first. */
const QUERY_AWARENESS = encodeMessage({ type: 'query-awareness' })

interface Scene {
  readonly server: TestServer
  readonly doc: CreatedDoc
  /** Two well-behaved clients of the document the offender attacks. */
  readonly witnesses: readonly [SyncProvider, SyncProvider]
  /** Every time a witness was not connected after the scene was set: should stay empty. */
  readonly drops: string[]
  readonly wsPath: string
  readonly host: string
}

async function scene(env: Record<string, string> = {}): Promise<Scene> {
  const server = await startTestServer({ MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES), ...env })
  const doc = await createDoc(server.url)
  const a = ourClient(server.url, doc.id, doc.editToken, { transport: 'websocket' })
  const b = ourClient(server.url, doc.id, doc.editToken, { transport: 'websocket' })
  await Promise.all([a.whenSynced(), b.whenSynced()])
  a.doc.getText('t').insert(0, 'before;')
  await eventually(() => expect(text(b.doc)).toBe('before;'))
  const drops: string[] = []
  for (const witness of [a, b]) {
    witness.onStatus((status) => {
      if (status.connection.kind !== 'connected') drops.push(status.connection.kind)
    })
  }
  return {
    server,
    doc,
    witnesses: [a, b],
    drops,
    wsPath: `/ws/${doc.id}?k=${doc.editToken}`,
    host: `127.0.0.1:${server.port}`,
  }
}

/** The process answers, the witnesses never dropped, and they still sync edits both ways. */
async function expectWitnessesUnharmed(s: Scene, label: string): Promise<void> {
  const health = await fetch(`${s.server.url}/healthz`)
  expect(health.status).toBe(200)
  const [a, b] = s.witnesses
  a.doc.getText('t').insert(text(a.doc).length, `${label}:a;`)
  await eventually(() => expect(text(b.doc)).toContain(`${label}:a;`))
  b.doc.getText('t').insert(text(b.doc).length, `${label}:b;`)
  await eventually(() => expect(text(a.doc)).toBe(text(b.doc)))
  expect(text(a.doc)).toContain(`${label}:b;`)
  expect(s.drops, 'a witness lost its connection').toEqual([])
  expect(a.status.connection.kind).toBe('connected')
  expect(b.status.connection.kind).toBe('connected')
  // Nothing of the offender's reached the document.
  await eventually(() =>
    expect(s.server.registry.peek(s.doc.id)?.doc.getText('t').toString()).toBe(text(a.doc)),
  )
}

function upgradeRequest(
  s: Scene,
  path: string,
  extraHeaders: readonly string[] = [],
): { request: string; key: string } {
  const key = randomBytes(16).toString('base64')
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: ${s.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
    ...extraHeaders,
  ]
  return { request: lines.join('\r\n') + '\r\n\r\n', key }
}

/** Completes a WebSocket handshake by hand and waits for the server's sync step 1. */
async function rawWebSocket(
  s: Scene,
  extraHeaders: readonly string[] = [],
): Promise<{ raw: RawSocket; answer: HttpAnswer }> {
  const raw = await RawSocket.connect(s.server.port)
  const { request, key } = upgradeRequest(s, s.wsPath, extraHeaders)
  await raw.write(request)
  const answer = await raw.answer()
  expect(answer?.status).toBe(101)
  expect(answer?.headers.get('sec-websocket-accept')).toBe(
    createHash('sha1')
      .update(key + WEBSOCKET_GUID)
      .digest('base64'),
  )
  // The session is in the room: the server greets with sync step 1 (type 0, sub-type 0).
  await eventually(() =>
    expect(
      raw.frames().some((f) => f.opcode === OPCODE.binary && f.payload[0] === 0 && f.payload[1] === 0),
    ).toBe(true),
  )
  return { raw, answer: answer as HttpAnswer }
}

/** Sends `bytes` on a fresh raw WebSocket and returns the code the server closed it with. */
async function closeCodeAfter(s: Scene, bytes: Buffer | readonly Buffer[]): Promise<number | null> {
  const { raw } = await rawWebSocket(s)
  const chunks: readonly Buffer[] = Buffer.isBuffer(bytes) ? [bytes] : bytes
  for (const chunk of chunks) await raw.write(chunk)
  const code = await raw.closeCode()
  raw.destroy()
  return code
}

/** The offender left the room: only the two witnesses remain. */
async function expectOnlyWitnessesInRoom(s: Scene): Promise<void> {
  await eventually(() => expect(s.server.registry.peek(s.doc.id)?.peerCount).toBe(2))
}

async function rawHttp(
  s: Scene,
  request: string | Buffer,
): Promise<{ raw: RawSocket; answer: HttpAnswer | null }> {
  const raw = await RawSocket.connect(s.server.port)
  await raw.write(request)
  return { raw, answer: await raw.answer() }
}

/** Opens a long-poll session on the scene's document; returns its id. */
async function openPollSession(s: Scene): Promise<string> {
  const response = await fetch(`${s.server.url}/api/docs/${s.doc.id}/lp?k=${s.doc.editToken}`, {
    method: 'POST',
  })
  expect(response.status).toBe(201)
  return ((await response.json()) as { sessionId: string }).sessionId
}

async function closePollSession(s: Scene, sessionId: string): Promise<void> {
  const url = `${s.server.url}/api/docs/${s.doc.id}/lp/${sessionId}?k=${s.doc.editToken}`
  expect((await fetch(url, { method: 'DELETE' })).status).toBe(204)
}

/** The head of a raw batch POST to a long-poll session (docs/PROTOCOL.md §8.2). */
function postHead(s: Scene, sessionId: string, framing: string): string {
  const path = `/api/docs/${s.doc.id}/lp/${sessionId}?k=${s.doc.editToken}&seq=1`
  return `POST ${path} HTTP/1.1\r\nHost: ${s.host}\r\nContent-Type: application/octet-stream\r\n${framing}\r\n\r\n`
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

function jsonOf(answer: HttpAnswer | null): unknown {
  return parseJson(answer?.body.toString('utf8') ?? '')
}

describe('hostile WebSocket frames', () => {
  it('[R30] an unmasked client frame closes the sender with 1002', async () => {
    const s = await scene()
    const code = await closeCodeAfter(
      s,
      clientFrame({ opcode: OPCODE.binary, payload: QUERY_AWARENESS, isMasked: false }),
    )
    expect(code).toBe(1002)
    await expectOnlyWitnessesInRoom(s)
    await expectWitnessesUnharmed(s, 'unmasked')
  })

  it('[R30] reserved opcodes 0x3–0x7 and 0xB–0xF close the sender with 1002', async () => {
    const s = await scene()
    for (const opcode of [0x3, 0x4, 0x5, 0x6, 0x7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
      const code = await closeCodeAfter(s, clientFrame({ opcode, payload: QUERY_AWARENESS }))
      expect(code, `opcode 0x${opcode.toString(16)}`).toBe(1002)
    }
    await expectOnlyWitnessesInRoom(s)
    await expectWitnessesUnharmed(s, 'opcodes')
  })

  it('[R30] a frame with RSV1, RSV2 or RSV3 set closes the sender with 1002 (no extension was negotiated)', async () => {
    const s = await scene()
    for (const rsv of [RSV1, RSV2, RSV3]) {
      const code = await closeCodeAfter(
        s,
        clientFrame({ opcode: OPCODE.binary, payload: QUERY_AWARENESS, rsv }),
      )
      expect(code, `rsv 0b${rsv.toString(2).padStart(3, '0')}`).toBe(1002)
    }
    await expectOnlyWitnessesInRoom(s)
    await expectWitnessesUnharmed(s, 'rsv')
  })

  it('[R11] a text frame closes the sender with 4402', async () => {
    const s = await scene()
    const code = await closeCodeAfter(s, clientFrame({ opcode: OPCODE.text, payload: Buffer.from('hello') }))
    expect(code).toBe(CLOSE_REASONS.malformedMessage.code)
    await expectOnlyWitnessesInRoom(s)
    await expectWitnessesUnharmed(s, 'text')
  })

  it('[R11] a text frame of invalid UTF-8 closes the sender (1007 invalid payload, or 4402)', async () => {
    const s = await scene()
    const code = await closeCodeAfter(
      s,
      clientFrame({ opcode: OPCODE.text, payload: Buffer.from([0xc3, 0x28, 0xff]) }),
    )
    expect([1007, CLOSE_REASONS.malformedMessage.code]).toContain(code)
    await expectOnlyWitnessesInRoom(s)
    await expectWitnessesUnharmed(s, 'utf8')
  })

  it('[R11] a frame above MAX_MESSAGE_BYTES closes the sender with 1009', async () => {
    const s = await scene()
    const justOver = clientFrame({ opcode: OPCODE.binary, payload: new Uint8Array(MAX_MESSAGE_BYTES + 1) })
    expect(await closeCodeAfter(s, justOver)).toBe(CLOSE_REASONS.messageTooBig.code)
    // A header that claims far more than will ever come: refused from the header alone.
    const claimed = clientFrame({
      opcode: OPCODE.binary,
      payload: new Uint8Array(16),
      declaredLength: 1n << 40n,
    })
    expect(await closeCodeAfter(s, claimed)).toBe(CLOSE_REASONS.messageTooBig.code)
    // Above 2^53 − 1: a length JavaScript cannot even represent exactly.
    const absurd = clientFrame({ opcode: OPCODE.binary, declaredLength: (1n << 63n) - 1n })
    expect(await closeCodeAfter(s, absurd)).toBe(CLOSE_REASONS.messageTooBig.code)
    await expectOnlyWitnessesInRoom(s)
    await expectWitnessesUnharmed(s, 'too-big')
  })

  it('[R30] 20,000 one-byte fragments (under MAX_MESSAGE_BYTES in all) close the sender (1008 or 1009)', async () => {
    const s = await scene()
    const fragments = [clientFrame({ opcode: OPCODE.binary, payload: Buffer.from([0]), isFinal: false })]
    for (let i = 0; i < 20_000; i++) {
      fragments.push(clientFrame({ opcode: OPCODE.continuation, payload: Buffer.from([0]), isFinal: false }))
    }
    fragments.push(clientFrame({ opcode: OPCODE.continuation, payload: Buffer.from([0]) }))
    // Per-fragment bookkeeping is the cost here, not bytes: a fragment cap (1008) or a size cap
    // (1009) are both bounds; unbounded reassembly is not.
    expect(await closeCodeAfter(s, Buffer.concat(fragments))).toBeOneOf([
      1008,
      CLOSE_REASONS.messageTooBig.code,
    ])
    await expectOnlyWitnessesInRoom(s)
    await expectWitnessesUnharmed(s, 'fragments')
  })

  it('[R11] a fragmented message adding up past MAX_MESSAGE_BYTES closes the sender with 1009', async () => {
    const s = await scene()
    const piece = new Uint8Array(16 * 1024)
    const fragments = [clientFrame({ opcode: OPCODE.binary, payload: piece, isFinal: false })]
    for (let i = 0; i < 4; i++)
      fragments.push(clientFrame({ opcode: OPCODE.continuation, payload: piece, isFinal: false }))
    fragments.push(clientFrame({ opcode: OPCODE.continuation, payload: piece }))
    expect(await closeCodeAfter(s, fragments)).toBe(CLOSE_REASONS.messageTooBig.code)
    await expectOnlyWitnessesInRoom(s)
    await expectWitnessesUnharmed(s, 'big-fragments')
  })

  it('[R30] a valid update split into one-byte fragments (under both caps) is reassembled and applied', async () => {
    const s = await scene()
    const author = new Y.Doc()
    author.getText('t').insert(0, 'fragmented;')
    const frame = Buffer.from(encodeMessage({ type: 'sync-update', update: Y.encodeStateAsUpdate(author) }))
    const { raw } = await rawWebSocket(s)
    for (let i = 0; i < frame.length; i++) {
      const opcode = i === 0 ? OPCODE.binary : OPCODE.continuation
      await raw.write(
        clientFrame({ opcode, payload: frame.subarray(i, i + 1), isFinal: i === frame.length - 1 }),
      )
    }
    await eventually(() => expect(text(s.witnesses[0].doc)).toContain('fragmented;'))
    expect(raw.isEnded).toBe(false)
    raw.destroy()
    await expectOnlyWitnessesInRoom(s)
    await expectWitnessesUnharmed(s, 'reassembled')
  })

  it('[R30] a continuation frame with nothing to continue closes the sender with 1002', async () => {
    const s = await scene()
    expect(
      await closeCodeAfter(s, clientFrame({ opcode: OPCODE.continuation, payload: QUERY_AWARENESS })),
    ).toBe(1002)
    await expectOnlyWitnessesInRoom(s)
    await expectWitnessesUnharmed(s, 'continuation')
  })

  it('[R30] malformed control frames (fragmented ping, 126-byte ping, close code 999) close with 1002', async () => {
    const s = await scene()
    const cases = {
      'fragmented ping': clientFrame({ opcode: OPCODE.ping, payload: Buffer.from('p'), isFinal: false }),
      '126-byte ping': clientFrame({ opcode: OPCODE.ping, payload: new Uint8Array(126) }),
      'close code 999': clientFrame({ opcode: OPCODE.close, payload: Buffer.from([0x03, 0xe7]) }),
    }
    for (const [name, bytes] of Object.entries(cases)) expect(await closeCodeAfter(s, bytes), name).toBe(1002)
    await expectOnlyWitnessesInRoom(s)
    await expectWitnessesUnharmed(s, 'control')
  })

  it('[R30] a permessage-deflate offer is not negotiated; a compressed frame then closes with 1002', async () => {
    const s = await scene()
    const { raw, answer } = await rawWebSocket(s, [
      'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_no_context_takeover',
    ])
    expect(answer.headers.has('sec-websocket-extensions')).toBe(false)
    // RSV1 marks a compressed message; without the extension it is a protocol error.
    await raw.write(clientFrame({ opcode: OPCODE.binary, payload: Buffer.from([0x62, 0x00]), rsv: RSV1 }))
    expect(await raw.closeCode()).toBe(1002)
    raw.destroy()
    await expectOnlyWitnessesInRoom(s)
    await expectWitnessesUnharmed(s, 'deflate')
  })

  it(
    '[R30] an upgraded connection that never sends anything is pinged, then dropped when it misses the pong',
    { timeout: 20_000 },
    async () => {
      const s = await scene({ WS_PING_INTERVAL_MS: '1000' })
      const { raw } = await rawWebSocket(s)
      // Documented bound (docs/PROTOCOL.md §2): a ping every WS_PING_INTERVAL_MS; a socket that
      // missed one is terminated at the next, so within two intervals plus slack.
      await eventually(() => expect(raw.frames().some((f) => f.opcode === OPCODE.ping)).toBe(true), 5_000)
      await eventually(() => expect(raw.isEnded).toBe(true), 5_000)
      await expectOnlyWitnessesInRoom(s)
      await expectWitnessesUnharmed(s, 'silent')
    },
  )
})

describe('hostile HTTP requests', () => {
  it('[R30] oversized request headers get 431 or a closed socket, on a plain request and an upgrade', async () => {
    const s = await scene()
    const padding = `X-Padding: ${'a'.repeat(64 * 1024)}`
    const plain = `GET /healthz HTTP/1.1\r\nHost: ${s.host}\r\n${padding}\r\n\r\n`
    const upgrade = upgradeRequest(s, s.wsPath, [padding]).request
    for (const [name, request] of Object.entries({ plain, upgrade })) {
      const { raw, answer } = await rawHttp(s, request)
      expect(answer === null ? 'closed' : answer.status, name).toBeOneOf(['closed', 431])
      await eventually(() => expect(raw.isEnded, `${name}: socket still open`).toBe(true))
    }
    await expectOnlyWitnessesInRoom(s)
    await expectWitnessesUnharmed(s, 'headers')
  })

  it('[R30] a long-poll body declared above MAX_MESSAGE_BYTES gets 413 with code 1009', async () => {
    const s = await scene()
    const poll = await openPollSession(s)
    const declared = await rawHttp(
      s,
      Buffer.concat([
        Buffer.from(postHead(s, poll, `Content-Length: ${MAX_MESSAGE_BYTES + 1}`)),
        Buffer.alloc(MAX_MESSAGE_BYTES + 1),
      ]),
    )
    expect(declared.answer?.status).toBe(413)
    expect.soft(jsonOf(declared.answer)).toMatchObject({ code: CLOSE_REASONS.messageTooBig.code })
    await closePollSession(s, poll)
    await expectOnlyWitnessesInRoom(s)
    await expectWitnessesUnharmed(s, 'declared-body')
  })

  it('[R30] an endless chunked long-poll body gets 413 (1009) once past MAX_MESSAGE_BYTES, then a hang-up', async () => {
    const s = await scene()
    const poll = await openPollSession(s)
    const endless = await RawSocket.connect(s.server.port)
    await endless.write(postHead(s, poll, 'Transfer-Encoding: chunked'))
    const chunk = Buffer.concat([Buffer.from('4000\r\n'), Buffer.alloc(0x4000, 7), Buffer.from('\r\n')])
    const hasAnswer = (): boolean => parseHttpAnswer(endless.received, endless.isEnded) !== null
    const sent = await writeWhile(endless, chunk, () => !hasAnswer(), 8 * MAX_MESSAGE_BYTES)
    const answer = await endless.answer()
    expect(answer?.status, `answer after ${sent} bytes`).toBe(413)
    expect.soft(jsonOf(answer)).toMatchObject({ code: CLOSE_REASONS.messageTooBig.code })
    // …and then stops reading: draining an endless body would hold the connection for ever.
    const drained = await writeWhile(endless, chunk, () => !endless.isEnded, 64 * MAX_MESSAGE_BYTES)
    expect(endless.isEnded, `still reading after ${drained} more bytes`).toBe(true)
    await closePollSession(s, poll)
    await expectOnlyWitnessesInRoom(s)
    await expectWitnessesUnharmed(s, 'endless-body')
  })

  it(
    '[R30] a slowloris request (one header byte every 200 ms) is hung up on within 15 s',
    { timeout: 40_000 },
    async () => {
      const s = await scene()
      const raw = await RawSocket.connect(s.server.port)
      // Headers that never end: a real request would be complete long before 15 s.
      const bytes = upgradeRequest(s, s.wsPath).request.replace(/\r\n$/, '') + `X-Drip: ${'.'.repeat(1_000)}`
      const startedAt = Date.now()
      const drip = (async () => {
        for (let i = 0; i < bytes.length && !raw.isEnded && Date.now() - startedAt < 20_000; i++) {
          await raw.write(bytes.charAt(i))
          await sleep(200)
        }
      })()
      await eventually(
        () => expect(raw.isEnded, 'the server did not hang up on a slowloris within 15 s').toBe(true),
        15_000,
      )
      const elapsedMs = Date.now() - startedAt
      await drip
      const answer = parseHttpAnswer(raw.received, true)
      expect(answer === null ? 'closed' : answer.status).toBeOneOf(['closed', 408])
      expect(elapsedMs).toBeLessThan(15_000)
      await expectOnlyWitnessesInRoom(s)
      await expectWitnessesUnharmed(s, 'slowloris')
    },
  )
})

describe('cross-site Origin', () => {
  const EVIL = 'https://evil.example'

  it('[R30] a cross-site Origin is refused with 403 (4406) on the WebSocket upgrade, SSE and long polling', async () => {
    const s = await scene()
    const sessionId = await openPollSession(s)
    const lp = `${s.server.url}/api/docs/${s.doc.id}/lp`
    const foreign = [
      EVIL,
      'null',
      `https://${s.host}`, // same host and port, other scheme
      `http://127.0.0.1:${s.server.port + 1}`, // same host, other port
      `http://localhost:${s.server.port}`, // other host name
    ]
    for (const origin of foreign) {
      const { raw, answer } = await rawHttp(s, upgradeRequest(s, s.wsPath, [`Origin: ${origin}`]).request)
      expect.soft(answer?.status, `upgrade from ${origin}`).toBe(403)
      expect
        .soft(jsonOf(answer), `upgrade from ${origin}`)
        .toMatchObject({ code: CLOSE_REASONS.badOrigin.code })
      raw.destroy()
    }
    const headers = { Origin: EVIL }
    const requests: Record<string, () => Promise<Response>> = {
      'SSE stream': () =>
        fetch(`${s.server.url}/api/docs/${s.doc.id}/events?k=${s.doc.viewToken}`, { headers }),
      'long-poll open': () => fetch(`${lp}?k=${s.doc.editToken}`, { method: 'POST', headers }),
      'long-poll send': () =>
        fetch(`${lp}/${sessionId}?k=${s.doc.editToken}&seq=1`, {
          method: 'POST',
          headers: { ...headers, 'Content-Type': 'application/octet-stream' },
          body: new Uint8Array(),
        }),
      'long-poll receive': () => fetch(`${lp}/${sessionId}?k=${s.doc.editToken}&ack=0&wait=0`, { headers }),
      'long-poll close': () =>
        fetch(`${lp}/${sessionId}?k=${s.doc.editToken}`, { method: 'DELETE', headers }),
    }
    for (const [name, request] of Object.entries(requests)) {
      const response = await request()
      // A stream that was let in would never end: read only what a refusal carries.
      const body = response.status === 200 ? null : parseJson(await response.text())
      if (response.status === 200) await response.body?.cancel()
      expect.soft(response.status, name).toBe(403)
      expect.soft(body, name).toMatchObject({ code: CLOSE_REASONS.badOrigin.code })
    }
    // The witnesses and the one poll session opened above; no refused request stayed in the room.
    await eventually(() => expect(s.server.registry.peek(s.doc.id)?.peerCount).toBe(3))
    await expectWitnessesUnharmed(s, 'origin')
  })

  it('[R30] its own origin, an origin in ALLOWED_ORIGINS, and no Origin at all are let in', async () => {
    const allowed = 'https://app.example'
    const s = await scene({ ALLOWED_ORIGINS: `https://other.example,${allowed}` })
    for (const origin of [`http://${s.host}`, allowed, null]) {
      const { raw } = await rawWebSocket(s, origin === null ? [] : [`Origin: ${origin}`])
      raw.destroy()
      const headers: Record<string, string> = origin === null ? {} : { Origin: origin }
      const stream = await fetch(`${s.server.url}/api/docs/${s.doc.id}/events?k=${s.doc.viewToken}`, {
        headers,
      })
      expect(stream.status, `SSE from ${origin}`).toBe(200)
      await stream.body?.cancel()
      const poll = await fetch(`${s.server.url}/api/docs/${s.doc.id}/lp?k=${s.doc.editToken}`, {
        method: 'POST',
        headers,
      })
      expect(poll.status, `long poll from ${origin}`).toBe(201)
    }
    await expectWitnessesUnharmed(s, 'same-origin')
  })
})

/**
 * Writes `chunk` again and again while `shouldGo()` holds, at most `limitBytes`, pacing on the
 * socket's own backpressure; returns the bytes written.
 */
async function writeWhile(
  raw: RawSocket,
  chunk: Buffer,
  shouldGo: () => boolean,
  limitBytes: number,
): Promise<number> {
  let sent = 0
  const deadline = Date.now() + 10_000
  while (shouldGo() && !raw.isEnded && sent < limitBytes && Date.now() < deadline) {
    if (raw.socket.writableNeedDrain) {
      await sleep(10)
      continue
    }
    raw.socket.write(chunk)
    sent += chunk.length
    await sleep(0)
  }
  return sent
}
