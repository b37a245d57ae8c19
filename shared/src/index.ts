export {
  MESSAGE_AUTH,
  MESSAGE_AWARENESS,
  MESSAGE_PERSISTENCE,
  MESSAGE_PING,
  MESSAGE_PONG,
  MESSAGE_QUERY_AWARENESS,
  MESSAGE_SAVED,
  MESSAGE_SYNC,
  ProtocolError,
  decodeFrameBatch,
  decodeMessage,
  encodeFrameBatch,
  encodeMessage,
} from './protocol.ts'
export type { Message, MessageType, PersistenceState } from './protocol.ts'
export { CLOSE_REASONS, closeReasonByCode, isFinalReason } from './closeReasons.ts'
export type { CloseReason, CloseReasonName } from './closeReasons.ts'
export { DOC_FRAGMENT, DOC_TITLE, MAX_DOC_ID_LENGTH, MAX_TITLE_LENGTH, isValidDocId } from './docId.ts'
export { decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url } from './base64.ts'
export { MAX_VIEWER_NAME_LENGTH, encodeAwarenessEntries, isViewerPresence } from './awareness.ts'
export type { AwarenessEntry, ViewerPresence } from './awareness.ts'
export {
  BATCH_HEADER,
  STREAM_HEARTBEAT,
  decodeBatchHeader,
  decodeConnectParams,
  decodePollRequest,
  decodeStreamEvent,
  encodeBatchHeader,
  encodeCloseEvent,
  encodeConnectParams,
  encodeFrameEvent,
  encodePollRequest,
  encodeStreamRetry,
} from './wire.ts'
export type { ConnectParams, PollRequest, QueryReader, StreamEvent } from './wire.ts'
