// Starts @hocuspocus/server 4.x with its default configuration, in memory or with
// @hocuspocus/extension-sqlite. Plain JavaScript on purpose: it imports packages that exist only in
// bench/node_modules, which the repository-wide `tsc -p bench` must not need.
//   PORT=<port> [SQLITE=<file>] node hocuspocus.mjs
import process from 'node:process'
import { SQLite } from '@hocuspocus/extension-sqlite'
import { Server } from '@hocuspocus/server'

const port = Number(process.env.PORT)
const database = process.env.SQLITE
const server = new Server({
  port,
  address: '127.0.0.1',
  quiet: true,
  extensions: database ? [new SQLite({ database })] : [],
})
await server.listen()
process.stdout.write(`hocuspocus listening on ${server.address.port}\n`)
