import { DOC_FRAGMENT } from '@tandem/shared'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { openLocalReplica } from '../src/offline/localReplica.ts'
import { TabChannel } from '../src/offline/tabChannel.ts'
import { writerKeyFor } from '../src/offline/writerKey.ts'
import { memoryStore } from './memoryStore.ts'

describe('[R33][R38] writerKeyFor', () => {
  it('keeps one key per document, so a reload writes as the same writer', () => {
    const store = memoryStore()
    const key = writerKeyFor(store, 'doc-a')
    expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(writerKeyFor(store, 'doc-a')).toBe(key)
    expect(writerKeyFor(memoryStore(Object.fromEntries(store.data)), 'doc-a')).toBe(key)
  })

  it('gives each document its own random key', () => {
    const store = memoryStore()
    expect(writerKeyFor(store, 'doc-a')).not.toBe(writerKeyFor(store, 'doc-b'))
    expect(writerKeyFor(memoryStore(), 'doc-a')).not.toBe(writerKeyFor(memoryStore(), 'doc-a'))
  })

  it('replaces a stored value that is not a 128-bit base64url key', () => {
    for (const damaged of ['', 'short', 'x'.repeat(23), 'a+b/'.repeat(5) + 'ab']) {
      const store = memoryStore({ 'tandem.writerKey.doc-a': damaged })
      const key = writerKeyFor(store, 'doc-a')
      expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/)
      expect(store.data.get('tandem.writerKey.doc-a')).toBe(key)
    }
  })
})

/** Two tabs' documents, each on its own channel object of one name (Node has BroadcastChannel). */
const open: Array<{ destroy(): void }> = []
let channelCount = 0

function tab(name: string, text = ''): { doc: Y.Doc; channel: TabChannel } {
  const doc = new Y.Doc()
  if (text !== '') write(doc, text)
  const channel = new TabChannel(doc, name)
  open.push(channel, doc)
  return { doc, channel }
}

function write(doc: Y.Doc, text: string): void {
  const paragraph = new Y.XmlElement('paragraph')
  paragraph.insert(0, [new Y.XmlText(text)])
  const fragment = doc.getXmlFragment(DOC_FRAGMENT)
  fragment.insert(fragment.length, [paragraph])
}

/** The document's paragraphs, as XML. */
function textOf(doc: Y.Doc): string[] {
  return doc
    .getXmlFragment(DOC_FRAGMENT)
    .toArray()
    .map((node) => (node instanceof Y.XmlElement ? node.toJSON() : ''))
}

afterEach(() => {
  for (const item of open.splice(0)) item.destroy()
})

describe('[R38] TabChannel', () => {
  const uniqueName = (): string => `tandem:test-${process.pid}-${(channelCount += 1)}`

  it('brings two tabs that were offline apart to the same content when the second one opens', async () => {
    const name = uniqueName()
    const first = tab(name, 'typed in the first tab')
    const second = tab(name, 'kept by the second tab')
    await vi.waitFor(() => expect(textOf(first.doc)).toEqual(textOf(second.doc)))
    expect(textOf(first.doc)).toHaveLength(2)
  })

  it('sends each edit to the other tabs, applied with the channel as origin', async () => {
    const name = uniqueName()
    const first = tab(name)
    const second = tab(name)
    const origins: unknown[] = []
    second.doc.on('update', (_update: Uint8Array, origin: unknown) => origins.push(origin))
    write(first.doc, 'hello')
    await vi.waitFor(() => expect(textOf(second.doc)).toEqual(textOf(first.doc)))
    expect(origins.length).toBeGreaterThan(0)
    expect(origins.every((origin) => origin === second.channel)).toBe(true)
  })

  it('does not echo what it received back to the other tabs', async () => {
    const name = uniqueName()
    const first = tab(name)
    const second = tab(name, 'seed')
    // The first tab answers the second's step 1 before it applies its step 2 (one sender's
    // messages arrive in order): once it shows the seed, the joining is over.
    await vi.waitFor(() => expect(textOf(first.doc)).toEqual(textOf(second.doc)))
    const posted = vi.spyOn(BroadcastChannel.prototype, 'postMessage')
    write(first.doc, 'once')
    // An echo would be posted while the second tab applies the update, before its text shows it.
    await vi.waitFor(() => expect(textOf(second.doc)).toEqual(textOf(first.doc)))
    expect(posted).toHaveBeenCalledTimes(1)
    posted.mockRestore()
  })

  it('stops sending and receiving once destroyed', async () => {
    const name = uniqueName()
    const first = tab(name)
    const second = tab(name)
    second.channel.destroy()
    write(first.doc, 'not for the second tab')
    const third = tab(name)
    await vi.waitFor(() => expect(textOf(third.doc)).toEqual(textOf(first.doc)))
    expect(textOf(second.doc)).toEqual([])
  })

  it('ignores messages that are not sync frames (another build of the app, say)', async () => {
    const name = uniqueName()
    const first = tab(name)
    const stranger = new BroadcastChannel(name)
    open.push({ destroy: () => stranger.close() })
    stranger.postMessage('hello')
    stranger.postMessage(new Uint8Array([0xff, 0xff]))
    const second = tab(name, 'still in sync')
    await vi.waitFor(() => expect(textOf(first.doc)).toEqual(textOf(second.doc)))
  })
})

describe('[R38] openLocalReplica', () => {
  it('opens without IndexedDB or localStorage (storage disabled in a browser) and still joins the tabs', async () => {
    expect(typeof indexedDB).toBe('undefined')
    const doc = new Y.Doc()
    const replica = await openLocalReplica(doc, `test-${process.pid}-replica`, { storage: null })
    open.push(replica, doc)
    expect(replica.isKeepingEdits).toBe(false)
    expect(replica.origins).toHaveLength(1)
    expect(replica.origins[0]).toBeInstanceOf(TabChannel)
    await expect(replica.forget()).resolves.toBeUndefined()
  })
})
