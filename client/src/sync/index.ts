export { SyncProvider } from './SyncProvider.ts'
export type { SyncProviderOptions } from './SyncProvider.ts'
export { WebSocketTransport, webSocketUrl } from './transport.ts'
export type { ClientTransport, ConnectContext, TransportConnection, TransportHandlers } from './transport.ts'
export { SseTransport } from './sseTransport.ts'
export { backoffDelayMs, DEFAULT_BACKOFF } from './backoff.ts'
export type {
  ConnectionState,
  Disposer,
  ProviderStatus,
  SaveState,
  SyncMode,
  TransportName,
} from './types.ts'
