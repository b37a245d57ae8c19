export {
  HEARTBEAT_INTERVAL_MS,
  RECEIVE_ONLY_SILENCE_TIMEOUT_MS,
  SILENCE_TIMEOUT_MS,
  SyncProvider,
} from './SyncProvider.ts'
export type { SyncProviderOptions } from './SyncProvider.ts'
export { WebSocketTransport, webSocketUrl } from './transport.ts'
export type { ClientTransport, ConnectContext, TransportConnection, TransportHandlers } from './transport.ts'
export { SseTransport } from './sseTransport.ts'
export { backoffDelayMs, DEFAULT_BACKOFF } from './backoff.ts'
export { browserConnectivity, checkReachability } from './fallback.ts'
export type { Connectivity, Reachability } from './fallback.ts'
export type {
  ConnectionState,
  Disposer,
  ProviderStatus,
  RetryWait,
  SaveState,
  SyncMode,
  TransportName,
} from './types.ts'
