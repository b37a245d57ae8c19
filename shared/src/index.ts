export {
  MESSAGE_AUTH,
  MESSAGE_AWARENESS,
  MESSAGE_PERSISTENCE,
  MESSAGE_QUERY_AWARENESS,
  MESSAGE_SAVED,
  MESSAGE_SYNC,
  ProtocolError,
  decodeMessage,
  encodeMessage,
} from './protocol.ts'
export type { Message, MessageType, PersistenceState } from './protocol.ts'
export { CLOSE_REASONS, closeReasonByCode } from './closeReasons.ts'
export type { CloseReason, CloseReasonName } from './closeReasons.ts'
export { DOC_FRAGMENT, MAX_DOC_ID_LENGTH, isValidDocId } from './docId.ts'
