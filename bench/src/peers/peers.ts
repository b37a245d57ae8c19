import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Dialect } from '../load/spec.ts'
import { BENCH_DIR, REPO_ROOT, TANDEM_BIN } from '../paths.ts'
import type { PeerId, PeerInfo } from '../schema.ts'

const HOCUSPOCUS = fileURLToPath(new URL('./hocuspocus.mjs', import.meta.url))
const RELAY = fileURLToPath(new URL('./relay.mjs', import.meta.url))
const Y_WEBSOCKET_SERVER = join(BENCH_DIR, 'node_modules/@y/websocket-server/src/server.js')

/** How to start one server and how clients reach a document on it. */
export interface PeerSpec extends Omit<PeerInfo, 'version'> {
  readonly dialect: Dialect
  /** Keeps documents across a restart, so a cold join from storage means something. */
  readonly hasStorage: boolean
  /** Holds the document itself (the relay does not): a fresh client can check the server's copy. */
  readonly hasServerState: boolean
  /** Node arguments after the harness's own (`--expose-gc --import preload`). */
  args(): string[]
  /** Environment for a run on `port` keeping data in `dataDir`. */
  env(port: number, dataDir: string): Record<string, string>
  /** The package whose version the report names. */
  readonly versionOf: string
}

export const PEERS: Record<PeerId, PeerSpec> = {
  tandem: {
    id: 'tandem',
    label: 'Tandem',
    versionOf: join(REPO_ROOT, 'package.json'),
    durability:
      'every update appended to LevelDB in a group commit (one batch per 4 ms gathered) before it is acknowledged (default config)',
    dialect: 'tandem',
    hasStorage: true,
    hasServerState: true,
    args: () => ['--import', 'tsx', TANDEM_BIN],
    env: (port, dataDir) => ({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      // Every client of the bench connects from 127.0.0.1; the default budget is 256.
      MAX_CONNECTIONS_PER_IP: '1000000',
      // Per-connection info lines would measure pino and the pipe, not the server.
      LOG_LEVEL: 'warn',
    }),
  },
  yws: {
    id: 'yws',
    label: 'y-websocket-server',
    versionOf: join(BENCH_DIR, 'node_modules/@y/websocket-server/package.json'),
    durability: 'memory only: a restart loses everything',
    dialect: 'y-websocket',
    hasStorage: false,
    hasServerState: true,
    args: () => [Y_WEBSOCKET_SERVER],
    env: (port) => ({ PORT: String(port), HOST: '127.0.0.1' }),
  },
  'yws-leveldb': {
    id: 'yws-leveldb',
    label: 'y-websocket-server + LevelDB',
    versionOf: join(BENCH_DIR, 'node_modules/@y/websocket-server/package.json'),
    durability: 'each update written to LevelDB (y-leveldb) asynchronously, never acknowledged to the client',
    dialect: 'y-websocket',
    hasStorage: true,
    hasServerState: true,
    args: () => [Y_WEBSOCKET_SERVER],
    env: (port, dataDir) => ({ PORT: String(port), HOST: '127.0.0.1', YPERSISTENCE: dataDir }),
  },
  hocuspocus: {
    id: 'hocuspocus',
    label: 'Hocuspocus',
    versionOf: join(BENCH_DIR, 'node_modules/@hocuspocus/server/package.json'),
    durability: 'memory only: a restart loses everything',
    dialect: 'hocuspocus',
    hasStorage: false,
    hasServerState: true,
    args: () => [HOCUSPOCUS],
    env: (port) => ({ PORT: String(port) }),
  },
  'hocuspocus-sqlite': {
    id: 'hocuspocus-sqlite',
    label: 'Hocuspocus + SQLite',
    versionOf: join(BENCH_DIR, 'node_modules/@hocuspocus/server/package.json'),
    durability:
      'whole document written to SQLite 2 s after the last change (debounce, at most 10 s), and when the last client leaves',
    dialect: 'hocuspocus',
    hasStorage: true,
    hasServerState: true,
    args: () => [HOCUSPOCUS],
    env: (port, dataDir) => ({ PORT: String(port), SQLITE: join(dataDir, 'hocuspocus.sqlite') }),
  },
  relay: {
    id: 'relay',
    label: 'bare ws relay',
    versionOf: join(BENCH_DIR, 'node_modules/ws/package.json'),
    durability: 'none, and no document: clients answer each other',
    dialect: 'relay',
    hasStorage: false,
    hasServerState: false,
    args: () => [RELAY],
    env: (port) => ({ PORT: String(port) }),
  },
}

export const PEER_IDS = Object.keys(PEERS) as PeerId[]

export function peerInfo(id: PeerId): PeerInfo {
  const spec = PEERS[id]
  let version = '?'
  try {
    version = (JSON.parse(readFileSync(spec.versionOf, 'utf8')) as { version?: string }).version ?? '?'
  } catch {
    // Not installed: the run fails to start it and says so.
  }
  return { id, label: spec.label, version, durability: spec.durability }
}
