import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'
import type { LogLevel } from '../config.ts'
import { isHealthCheck } from '../http/health.ts'

/** Where log lines go instead of stdout (tests read them): one JSON line per write. */
export interface LogDestination {
  write(line: string): void
}

export interface LoggingOptions {
  readonly level: LogLevel
  /** NODE_NAME when set: in a cluster every line says which node wrote it (SPEC R68). */
  readonly nodeName: string | null
  readonly stream?: LogDestination
}

/**
 * Fastify's logger options (SPEC R52, R68). JSON lines for machines (the default, and always with a
 * `stream`); when stdout is a terminal, the same events as one readable line each, because a person
 * is reading. pino-pretty is loaded only then: it is no part of a production server's memory.
 */
export async function createLoggerOptions(options: LoggingOptions): Promise<{
  level: LogLevel
  serializers: { req: typeof requestSerializer }
  base?: Record<string, string>
  stream?: LogDestination
}> {
  const stream = options.stream ?? (process.stdout.isTTY ? await terminalStream(process.stdout) : undefined)
  return {
    level: options.level,
    serializers: { req: requestSerializer },
    // pid and hostname stay (pino's defaults); the node name is what a cluster's logs are read by.
    ...(options.nodeName ? { base: { node: options.nodeName } } : {}),
    ...(stream ? { stream } : {}),
  }
}

/** One coloured line per event, fields inline: what `npm start` shows in a terminal. */
export async function terminalStream(
  destination: NodeJS.WritableStream,
  { colorize = true }: { colorize?: boolean } = {},
): Promise<LogDestination> {
  const { default: pretty } = await import('pino-pretty')
  return pretty({
    destination,
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,reqId',
    // Lines are written as they come: a crash must not eat the last ones.
    sync: true,
  })
}

/** Request log lines carry the path only: query strings hold link tokens, never logged. */
function requestSerializer(request: FastifyRequest): Record<string, string | undefined> {
  return { method: request.method, path: request.url.split('?')[0], ip: request.ip }
}

const LONG_POLL_PATH = /^\/api\/docs\/[^/]+\/lp(\/|$)/

/**
 * Requests nobody reads one by one: health checks (every few seconds from each balancer), static
 * files and pages, and long polls (one per client every 25 s, and their opening and closing are
 * logged by the gate as connections). Logged at debug, unless they failed on our side.
 */
function isRoutine(request: FastifyRequest): boolean {
  const path = request.url.split('?')[0] ?? ''
  if (isHealthCheck(request) || LONG_POLL_PATH.test(path)) return true
  return !path.startsWith('/api/') && !path.startsWith('/ws/')
}

/**
 * One line per request, when it completed, instead of Fastify's two (incoming and completed); at
 * debug for routine requests (SPEC R68); one that failed while being answered, at error.
 */
class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    // Milliseconds to a tenth: more digits are noise to a reader.
    const fields = { req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 10) / 10 }
    if (error) reply.log.error({ ...fields, err: error }, 'request errored')
    else if (isRoutine(request) && reply.statusCode < 500) reply.log.debug(fields, 'request completed')
    else reply.log.info(fields, 'request completed')
  }
}

export function createRequestLog(): LogController {
  return new RequestLog()
}
