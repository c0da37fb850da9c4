// An OTLP/HTTP endpoint that accepts span exports and discards them: the collector for the
// "tracing on" targets, in a process of its own so that its work is not counted as Causeway's.
import { createServer } from 'node:http';

let exports = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    exports++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 }).end();
  });
});
process.on('message', (m) => m === 'count' && process.send?.({ exports }));
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.({ ready: true }));
