// A second MQTT broker for the integration tests: aedes (npm), MQTT 3.1.1 only,
// in-memory persistence (sessions and retained messages end with the process).
//   node aedes_broker.mjs PORT
// Prints "aedes VERSION listening on 127.0.0.1:PORT" once it accepts connections,
// one line per client connect and disconnect, and stops on SIGTERM.
import { createServer } from 'node:net'
import { Aedes } from 'aedes'

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node aedes_broker.mjs PORT')
  process.exit(2)
}
const broker = await Aedes.createBroker()
broker.on('client', (c) => console.log(`client connected: ${c.id}`))
broker.on('clientDisconnect', (c) => console.log(`client disconnected: ${c.id}`))
broker.on('clientError', (c, e) => console.log(`client error: ${c ? c.id : '?'}: ${e.message}`))
broker.on('connectionError', (c, e) => console.log(`connection error: ${e.message}`))
const server = createServer(broker.handle)
server.listen(port, '127.0.0.1', () => console.log(`aedes ${broker.version} listening on 127.0.0.1:${port}`))
process.on('SIGTERM', () => {
  server.close()
  broker.close(() => process.exit(0))
})
