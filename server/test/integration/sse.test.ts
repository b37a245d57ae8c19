import { encodeBase64Url, isViewerPresence } from '@tandem/shared'
import { EventSource } from 'eventsource'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createDoc, eventually, ourClient, text } from './support/clients.ts'
import { frames, openStream } from './support/sse.ts'
import { startTestServer } from './support/testServer.ts'

describe('Server-Sent Events for viewers', () => {
  it('[R22] a standard EventSource client gets the document first, then live updates, with event ids', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const editor = ourClient(server.url, doc.id, doc.editToken)
    await editor.whenSynced()
    editor.doc.getText('t').insert(0, 'existing')
    await eventually(() => expect(editor.status.save).toBe('saved'))

    const mirror = new Y.Doc()
    const ids: string[] = []
    const source = new EventSource(`${server.url}/api/docs/${doc.id}/events?k=${doc.viewToken}`)
    source.onmessage = (event: MessageEvent<string>) => {
      ids.push(event.lastEventId)
      const [message] = frames([{ data: event.data, id: event.lastEventId, event: undefined }])
      if (message?.type === 'sync-step2' || message?.type === 'sync-update')
        Y.applyUpdate(mirror, message.update)
    }
    try {
      await eventually(() => expect(mirror.getText('t').toString()).toBe('existing'))
      editor.doc.getText('t').insert(8, ' and live')
      await eventually(() => expect(mirror.getText('t').toString()).toBe('existing and live'))
      expect(ids[0]).toBe('1')
      expect(new Set(ids).size).toBe(ids.length)
    } finally {
      source.close()
    }
  })

  it('[R22] headers, retry hint and heartbeat comments', async () => {
    const server = await startTestServer({ SSE_HEARTBEAT_MS: '1000', SSE_RETRY_MS: '1500' })
    const doc = await createDoc(server.url)
    const stream = await openStream(`${server.url}/api/docs/${doc.id}/events?k=${doc.viewToken}`)
    expect(stream.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(stream.response.headers.get('cache-control')).toContain('no-cache')
    expect(stream.response.headers.get('x-accel-buffering')).toBe('no')
    await eventually(() => expect(stream.comments).toContain('ping'), 5_000)
    // The first event is the document state: a sync step 2, before anything else.
    expect(frames(stream.events)[0]?.type).toBe('sync-step2')
    stream.close()
    const raw = await fetch(`${server.url}/api/docs/${doc.id}/events?k=${doc.viewToken}`)
    const reader = raw.body?.getReader()
    const first = await reader?.read()
    expect(new TextDecoder().decode(first?.value)).toMatch(/^retry: 1500\n\n/)
    await reader?.cancel()
  })

  it('[R22] a viewer that resumes with its state vector downloads only what it lacks', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const editor = ourClient(server.url, doc.id, doc.editToken)
    await editor.whenSynced()
    editor.doc.getText('t').insert(0, 'x'.repeat(50_000))
    await eventually(() => expect(editor.status.save).toBe('saved'))
    const viewerDoc = new Y.Doc()
    Y.applyUpdate(viewerDoc, Y.encodeStateAsUpdate(editor.doc))
    editor.doc.getText('t').insert(0, 'new!')
    await eventually(() => expect(editor.status.save).toBe('saved'))

    const full = await openStream(`${server.url}/api/docs/${doc.id}/events?k=${doc.viewToken}`)
    const sv = encodeBase64Url(Y.encodeStateVector(viewerDoc))
    const resumed = await openStream(`${server.url}/api/docs/${doc.id}/events?k=${doc.viewToken}&sv=${sv}`)
    await eventually(() => expect(frames(full.events)[0]?.type).toBe('sync-step2'))
    await eventually(() => expect(frames(resumed.events)[0]?.type).toBe('sync-step2'))
    const fullBytes = full.events[0]?.data.length ?? 0
    const resumedBytes = resumed.events[0]?.data.length ?? 0
    expect(fullBytes).toBeGreaterThan(50_000)
    expect(resumedBytes).toBeLessThan(200)
    const [step2] = frames(resumed.events)
    if (step2?.type === 'sync-step2') Y.applyUpdate(viewerDoc, step2.update)
    expect(viewerDoc.getText('t').toString()).toBe(text(editor.doc))
    full.close()
    resumed.close()
  })

  it('[R22] our SyncProvider in view mode follows the document over SSE and never writes', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const editor = ourClient(server.url, doc.id, doc.editToken)
    const viewer = ourClient(server.url, doc.id, doc.viewToken, { mode: 'view', viewerName: 'Vera' })
    await Promise.all([editor.whenSynced(), viewer.whenSynced()])
    expect(viewer.status.transport).toBe('sse')
    editor.doc.getText('t').insert(0, 'live text')
    await eventually(() => expect(text(viewer.doc)).toBe('live text'))
    viewer.doc.getText('t').insert(0, 'local only ')
    editor.doc.getText('t').insert(9, '!')
    await eventually(() => expect(text(viewer.doc)).toBe('local only live text!'))
    expect(text(editor.doc)).toBe('live text!')
  })

  it('[R21] editors see each viewer with its name; it disappears when the stream closes', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const editor = ourClient(server.url, doc.id, doc.editToken)
    await editor.whenSynced()
    const viewers = (): unknown[] => [...editor.awareness.getStates().values()].filter(isViewerPresence)
    const stream = await openStream(`${server.url}/api/docs/${doc.id}/events?k=${doc.viewToken}&name=Vera`)
    await eventually(() => expect(viewers()).toEqual([{ viewer: { name: 'Vera' } }]))
    const meta = (await (await fetch(`${server.url}/api/docs/${doc.id}?k=${doc.viewToken}`)).json()) as {
      viewers: number
    }
    expect(meta.viewers).toBe(1)
    stream.close()
    await eventually(() => expect(viewers()).toEqual([]))
  })

  it('[R21] a view link over WebSocket cannot inject awareness', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const editor = ourClient(server.url, doc.id, doc.editToken)
    const sneaky = ourClient(server.url, doc.id, doc.viewToken, { transport: 'websocket' })
    await Promise.all([editor.whenSynced(), sneaky.whenSynced()])
    // Our provider would not send it in view mode; send it the way a hostile client would.
    const { default: WebSocket } = await import('ws')
    const { encodeMessage } = await import('@tandem/shared')
    const awarenessProtocol = await import('y-protocols/awareness')
    const fake = new awarenessProtocol.Awareness(new Y.Doc())
    fake.setLocalState({ user: { name: 'Mallory' } })
    const socket = new WebSocket(`${server.wsUrl}/${doc.id}?k=${doc.viewToken}`)
    await new Promise((resolve) => socket.once('open', resolve))
    socket.send(
      encodeMessage({
        type: 'awareness',
        update: awarenessProtocol.encodeAwarenessUpdate(fake, [fake.clientID]),
      }),
    )
    // A later editor change proves the server processed the socket's earlier frame.
    editor.awareness.setLocalStateField('user', { name: 'Ed' })
    await eventually(() =>
      expect(server.registry.peek(doc.id)?.awareness.getStates().get(editor.doc.clientID)).toBeDefined(),
    )
    await eventually(() => expect(server.registry.peek(doc.id)?.viewerCount).toBe(2))
    expect(server.registry.peek(doc.id)?.awareness.getStates().has(fake.clientID)).toBe(false)
    socket.close()
  })

  it('[R23] a viewer that stops reading is cut off past MAX_QUEUED_BYTES instead of growing memory', async () => {
    const server = await startTestServer({ MAX_QUEUED_BYTES: '65536' })
    const doc = await createDoc(server.url)
    const editor = ourClient(server.url, doc.id, doc.editToken)
    await editor.whenSynced()
    // A raw socket that sends the request and then never reads a byte.
    const { connect } = await import('node:net')
    const socket = connect(server.port, '127.0.0.1')
    socket.on('error', () => undefined)
    socket.on('close', () => socket.destroy())
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.pause()
    socket.write(
      `GET /api/docs/${doc.id}/events?k=${doc.viewToken}&name=Slow HTTP/1.1\r\n` +
        'Host: localhost\r\nAccept: text/event-stream\r\n\r\n',
    )
    await eventually(() => expect(server.registry.peek(doc.id)?.viewerCount).toBe(1))
    // Kernel socket buffers absorb some MB before the server sees backpressure; past them, the
    // server's own queue for this viewer is capped at 64 KiB and the viewer is cut off.
    const chunk = 'y'.repeat(1_000_000)
    for (let i = 0; i < 120 && server.registry.peek(doc.id)?.viewerCount === 1; i++) {
      editor.doc.getText('t').insert(0, chunk)
      if (i % 10 === 9) await eventually(() => expect(editor.status.save).toBe('saved'), 20_000)
    }
    await eventually(() => expect(editor.status.save).toBe('saved'), 20_000)
    expect(server.registry.peek(doc.id)?.viewerCount).toBe(0)
    // Its presence is gone for editors and the server dropped the socket.
    await eventually(() =>
      expect([...editor.awareness.getStates().values()].filter(isViewerPresence)).toEqual([]),
    )
    // Reading again, the client finds the stream ended by the server.
    socket.resume()
    await eventually(() => expect(socket.destroyed || socket.readableEnded).toBe(true), 10_000)
    expect(editor.status.connection.kind).toBe('connected')
    socket.destroy()
  }, 60_000)
})

describe('probes', () => {
  it('[R26][R21] a background probe of the event stream is not counted as a viewer', async () => {
    const server = await startTestServer()
    const doc = await createDoc(server.url)
    const probe = await openStream(
      `${server.url}/api/docs/${doc.id}/events?k=${doc.viewToken}&name=P&probe=1`,
    )
    await eventually(() => expect(frames(probe.events)[0]?.type).toBe('sync-step2'))
    expect(server.registry.peek(doc.id)?.viewerCount).toBe(0)
    probe.close()
  })
})
