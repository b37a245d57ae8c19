import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http'
import WebSocket from 'ws'
import { decodeFrameBatch, encodeFrameBatch, prefixDocName, stripDocName } from '../protocol/messages.ts'
import { Session } from './session.ts'
import type { ClientSpec } from './spec.ts'

/** One connected client, whatever carries its frames. */
export interface Client {
  readonly session: Session
  close(): void
}

export function openClient(spec: ClientSpec, agent: Agent): Client {
  switch (spec.transport) {
    case 'ws':
      return new WsClient(spec)
    case 'sse':
      return new SseClient(spec, agent)
    case 'longpoll':
      return new LongPollClient(spec, agent)
  }
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

class WsClient implements Client {
  readonly session: Session
  readonly #ws: WebSocket
  #isClosing = false

  constructor(spec: ClientSpec) {
    const isHocuspocus = spec.dialect === 'hocuspocus'
    this.session = new Session(spec, (message) =>
      this.#ws.send(isHocuspocus ? prefixDocName(spec.docName, message) : message),
    )
    // No permessage-deflate offer: every server is measured on the same uncompressed frames.
    this.#ws = new WebSocket(spec.url, { perMessageDeflate: false })
    this.#ws.on('open', () => this.session.opened())
    this.#ws.on('message', (data: WebSocket.RawData) => {
      try {
        const bytes = toBytes(data)
        this.session.message(isHocuspocus ? stripDocName(bytes) : bytes)
      } catch (error) {
        this.session.failed(`bad frame: ${error instanceof Error ? error.message : String(error)}`)
      }
    })
    this.#ws.on('error', (error) => this.session.failed(`socket error: ${error.message}`))
    this.#ws.on('unexpected-response', (_request, response) =>
      this.session.failed(`upgrade refused: HTTP ${response.statusCode}`),
    )
    this.#ws.on('close', (code, reason) => {
      if (!this.#isClosing) this.session.failed(`closed by server: ${code} ${reason.toString()}`)
    })
  }

  close(): void {
    this.#isClosing = true
    if (this.#ws.readyState === WebSocket.CONNECTING) this.#ws.terminate()
    else this.#ws.close()
  }
}

/** Tandem's event stream (docs/PROTOCOL.md §6): one base64 frame per `data:` line. */
class SseClient implements Client {
  readonly session: Session
  #response: IncomingMessage | null = null
  #isClosing = false

  constructor(spec: ClientSpec, agent: Agent) {
    this.session = new Session(spec, () => {
      throw new Error('an event stream cannot send')
    })
    const url = `${spec.url}/api/docs/${spec.docName}/events?k=${encodeURIComponent(spec.token)}`
    const request = httpRequest(url, { agent, headers: { Accept: 'text/event-stream' } }, (response) => {
      this.#response = response
      if (response.statusCode !== 200) {
        this.session.failed(`event stream refused: HTTP ${response.statusCode}`)
        response.resume()
        return
      }
      this.session.opened()
      response.setEncoding('utf8')
      let buffer = ''
      response.on('data', (chunk: string) => {
        buffer += chunk
        let end = buffer.indexOf('\n\n')
        while (end !== -1) {
          this.#event(buffer.slice(0, end))
          buffer = buffer.slice(end + 2)
          end = buffer.indexOf('\n\n')
        }
      })
      response.on('end', () => {
        if (!this.#isClosing) this.session.failed('event stream ended')
      })
      response.on('error', () => undefined)
    })
    request.on('error', (error) => {
      if (!this.#isClosing) this.session.failed(`event stream error: ${error.message}`)
    })
    request.end()
  }

  #event(block: string): void {
    for (const line of block.split('\n')) {
      if (line.startsWith('data: ')) {
        const bytes = Buffer.from(line.slice(6), 'base64')
        if (block.startsWith('event: close')) this.session.failed(`stream closed by server: ${line.slice(6)}`)
        else this.session.message(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      }
    }
  }

  close(): void {
    this.#isClosing = true
    this.#response?.destroy()
  }
}

interface HttpAnswer {
  readonly status: number
  readonly headers: IncomingMessage['headers']
  readonly body: Buffer
}

function http(agent: Agent, method: string, url: string, body?: Uint8Array): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        agent,
        method,
        headers: body
          ? { 'Content-Type': 'application/octet-stream', 'Content-Length': body.byteLength }
          : {},
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        )
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    request.end(body)
  })
}

/** Tandem's long polling (docs/PROTOCOL.md §8): POST batches of frames, a held GET receives. */
class LongPollClient implements Client {
  readonly session: Session
  readonly #base: string
  readonly #token: string
  #sessionId: string | null = null
  #outbox: Uint8Array[] = []
  #isSending = false
  #sendSeq = 0
  #isClosing = false

  constructor(
    spec: ClientSpec,
    private readonly agent: Agent,
  ) {
    this.#base = `${spec.url}/api/docs/${spec.docName}/lp`
    this.#token = encodeURIComponent(spec.token)
    this.session = new Session(spec, (message) => {
      this.#outbox.push(message)
      void this.#flush()
    })
    void this.#run()
  }

  async #run(): Promise<void> {
    try {
      const opened = await http(this.agent, 'POST', `${this.#base}?k=${this.#token}`)
      if (opened.status !== 201) throw new Error(`open refused: HTTP ${opened.status}`)
      this.#sessionId = (JSON.parse(opened.body.toString()) as { sessionId: string }).sessionId
      this.session.opened()
      let ack = 0
      while (!this.#isClosing) {
        const answer = await http(
          this.agent,
          'GET',
          `${this.#base}/${this.#sessionId}?k=${this.#token}&ack=${ack}`,
        )
        if (this.#isClosing) return
        if (answer.status === 204) continue
        if (answer.status !== 200) throw new Error(`poll refused: HTTP ${answer.status}`)
        ack = Number(answer.headers['x-tandem-batch'])
        for (const frame of decodeFrameBatch(new Uint8Array(answer.body))) this.session.message(frame)
      }
    } catch (error) {
      if (!this.#isClosing) this.session.failed(error instanceof Error ? error.message : String(error))
    }
  }

  async #flush(): Promise<void> {
    if (this.#isSending || !this.#sessionId) return
    this.#isSending = true
    try {
      while (this.#outbox.length > 0 && !this.#isClosing) {
        const frames = this.#outbox
        this.#outbox = []
        const seq = ++this.#sendSeq
        const answer = await http(
          this.agent,
          'POST',
          `${this.#base}/${this.#sessionId}?k=${this.#token}&seq=${seq}`,
          encodeFrameBatch(frames),
        )
        if (answer.status !== 204) throw new Error(`send refused: HTTP ${answer.status}`)
      }
    } catch (error) {
      if (!this.#isClosing) this.session.failed(error instanceof Error ? error.message : String(error))
    } finally {
      this.#isSending = false
    }
  }

  close(): void {
    this.#isClosing = true
    if (this.#sessionId) {
      http(this.agent, 'DELETE', `${this.#base}/${this.#sessionId}?k=${this.#token}`).catch(() => undefined)
    }
  }
}
