/**
 * What version history (SPEC R62) costs in storage on the benchmark's large document (not part of
 * the suite). A Tandem server in its own process gets the large document (15,000 small edits,
 * ~120k characters, bench/src/data/largeDoc.ts) from a stock y-websocket client; then, `versions`
 * times, the client makes a small edit (40 characters at a random place), waits until it is
 * stored, and asks for a named version (POST /api/docs/:id/versions). Reported: the bytes of one
 * version as stored (its encoded state, `bytes` in the listing) and the growth of the data
 * directory per version (LevelDB compresses values with Snappy), and from them the cost of the
 * retention rule's bound (RETENTION in server/src/persistence/VersionStore.ts) and of a realistic
 * month of editing.
 *
 *   node --import tsx bench/src/extra/version-cost.ts [--edits 15000] [--versions 40]
 */
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import * as decoding from 'lib0/decoding'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { largeDoc } from '../data/largeDoc.ts'
import { PeerProcess } from '../peers/PeerProcess.ts'
import { createRoom } from '../peers/rooms.ts'
import { waitUntil } from '../util/clock.ts'

const { values } = parseArgs({
  options: { edits: { type: 'string', default: '15000' }, versions: { type: 'string', default: '40' } },
})
const EDITS = Number(values.edits)
const VERSIONS = Number(values.versions)
/** The retention rule's bound per document: named + automatic of the last day + one a day for 30 days. */
const KEPT_AT_MOST = 50 + 50 + 31
/** A realistic month: 50 automatic versions of the last day, 30 daily ones, 10 named ones. */
const KEPT_REALISTIC = 50 + 30 + 10

async function directoryBytes(dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    total += entry.isDirectory() ? await directoryBytes(path) : (await stat(path)).size
  }
  return total
}

const large = await largeDoc(EDITS)
const decoder = decoding.createDecoder(await readFile(large.file))
const source = new Y.Doc()
source.transact(() => {
  while (decoding.hasContent(decoder)) Y.applyUpdate(source, decoding.readVarUint8Array(decoder))
})
const stateBytes = Y.encodeStateAsUpdate(source).byteLength

const peer = await PeerProcess.start('tandem', { env: { VERSION_PAUSE_MS: '3600000', LOG_LEVEL: 'warn' } })
try {
  const room = await createRoom(peer, 'versions')
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(`${peer.wsUrl}/ws`, room.docName, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { k: room.editToken },
    disableBc: true,
  })
  await waitUntil(() => provider.synced, 30_000, 'the client to sync')
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(source))
  const storedVersion = async (): Promise<number> => {
    const response = await fetch(`${peer.httpUrl}/api/docs/${room.docName}?k=${room.viewToken}`)
    return ((await response.json()) as { version: number }).version
  }
  let stored = 0
  await waitUntil(async () => (stored = await storedVersion()) > 0, 60_000, 'the document to be stored')
  provider.destroy()
  // The provider leaves its awareness's timer running; it would keep this script alive.
  provider.awareness.destroy()
  // Measured after restarts, so both figures count LevelDB tables (Snappy-compressed), not its log.
  await peer.restart()
  const before = await directoryBytes(peer.dataDir)
  const editor = new WebsocketProvider(`${peer.wsUrl}/ws`, room.docName, doc, {
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    params: { k: room.editToken },
    disableBc: true,
  })
  await waitUntil(() => editor.synced, 30_000, 'the client to sync again')
  const sizes: number[] = []
  const text = doc.getText('t')
  for (let i = 0; i < VERSIONS; i++) {
    text.insert(Math.floor(Math.random() * text.length), 'a small edit between two versions, 40 ch')
    const target = stored + 1
    await waitUntil(async () => (stored = await storedVersion()) >= target, 30_000, 'the edit to be stored')
    const response = await fetch(`${peer.httpUrl}/api/docs/${room.docName}/versions?k=${room.editToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `version ${i}` }),
    })
    if (response.status !== 201) throw new Error(`POST versions: HTTP ${response.status}`)
    sizes.push(((await response.json()) as { bytes: number }).bytes)
  }
  editor.destroy()
  editor.awareness.destroy()
  // A restart writes LevelDB's log into a table, as a running server does over time.
  await peer.restart()
  const after = await directoryBytes(peer.dataDir)
  const versionBytes = sizes.reduce((sum, size) => sum + size, 0) / sizes.length
  const diskPerVersion = (after - before) / VERSIONS
  const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`
  console.log(
    JSON.stringify(
      {
        edits: EDITS,
        characters: source.getText('t').length,
        stateBytes,
        versions: VERSIONS,
        versionBytes: Math.round(versionBytes),
        diskBytesPerVersion: Math.round(diskPerVersion),
        retentionBound: {
          versions: KEPT_AT_MOST,
          stored: mib(versionBytes * KEPT_AT_MOST),
          disk: mib(diskPerVersion * KEPT_AT_MOST),
        },
        realisticMonth: {
          versions: KEPT_REALISTIC,
          stored: mib(versionBytes * KEPT_REALISTIC),
          disk: mib(diskPerVersion * KEPT_REALISTIC),
        },
      },
      null,
      2,
    ),
  )
} finally {
  await peer.stop().catch(() => undefined)
}
