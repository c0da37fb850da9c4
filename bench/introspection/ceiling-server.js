// The ceiling: a bare Node http server that reads the form body and answers a fixed introspection JSON.
import { createServer } from 'node:http';

const body = JSON.stringify({
  active: true,
  scope: 'urn:matrix:client:api:* urn:matrix:client:device:ABCDEFGHIJ urn:matrix:org.matrix.msc2967.client:api:* urn:matrix:org.matrix.msc2967.client:device:ABCDEFGHIJ',
  client_id: '01JCLIENT0000000000000000',
  username: 'alice',
  sub: '01JUSER00000000000000000000',
  token_type: 'access_token',
  exp: 1767225900,
  expires_in: 300,
  iat: 1767225600,
  nbf: 1767225600,
  jti: '01JTOKEN000000000000000000',
});
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.({ ready: true }));
