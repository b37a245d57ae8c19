import { decodeBase64, decodeMessage, type Message } from '@tandem/shared'
import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream'

export interface RawStream {
  readonly response: Response
  /** Events received so far (comments are not events). */
  readonly events: EventSourceMessage[]
  readonly comments: string[]
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>
  close(): void
}

/** Opens an event stream with fetch and records what arrives. */
export async function openStream(url: string): Promise<RawStream> {
  const controller = new AbortController()
  const response = await fetch(url, { headers: { Accept: 'text/event-stream' }, signal: controller.signal })
  const events: EventSourceMessage[] = []
  const comments: string[] = []
  const ended = (async () => {
    if (!response.body) return
    const parsed = response.body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream({ onComment: (comment) => comments.push(comment) }))
    const reader = parsed.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        events.push(value)
      }
    } catch {
      // aborted by close()
    }
  })()
  return { response, events, comments, ended, close: () => controller.abort() }
}

export function frames(events: readonly EventSourceMessage[]): Message[] {
  return events
    .filter((event) => event.event === undefined)
    .map((event) => decodeMessage(decodeBase64(event.data)))
}
