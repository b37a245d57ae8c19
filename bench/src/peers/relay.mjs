// The floor: a WebSocket relay that forwards every frame to the other clients of its room (the URL
// path) and does nothing else: no Yjs, no storage. What any one-message-per-update server costs at
// least. Plain JavaScript, started without tsx, so that its memory is the relay's alone.
//   PORT=<port> node relay.mjs
import { createServer } from 'node:http'
import process from 'node:process'
import { WebSocketServer } from 'ws'

const rooms = new Map()
const http = createServer((_request, response) => response.end('relay'))
const wss = new WebSocketServer({ server: http, perMessageDeflate: false })

wss.on('connection', (socket, request) => {
  const name = (request.url ?? '/').split('?')[0] ?? '/'
  let members = rooms.get(name)
  if (!members) rooms.set(name, (members = new Set()))
  members.add(socket)
  socket.on('message', (data, isBinary) => {
    for (const other of members) if (other !== socket) other.send(data, { binary: isBinary })
  })
  socket.on('close', () => {
    members.delete(socket)
    if (members.size === 0) rooms.delete(name)
  })
  socket.on('error', () => socket.terminate())
})

http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`relay listening on ${JSON.stringify(http.address())}\n`)
})
