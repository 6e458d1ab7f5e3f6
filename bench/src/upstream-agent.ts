// The upstream of bench/sidecar: answers POST with a small JSON body after reading the request. PORT.
import { createServer } from 'node:http';

const answer = JSON.stringify({ answer: 'Three sets of eight, then rest.', tokens: 12 });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) }).end(answer);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env['PORT']), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
