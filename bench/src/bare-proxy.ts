// Baseline (b) of bench/sidecar: a bare node:http pass-through proxy (keep-alive agent, pipe both ways), the
// practical limit of a Node proxy. UPSTREAM_URL, PORT.
import { Agent, createServer, request } from 'node:http';

const upstream = new URL(String(process.env['UPSTREAM_URL']));
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const server = createServer((req, res) => {
  const upstreamReq = request(
    { agent, host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
    (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    },
  );
  upstreamReq.on('error', () => res.writeHead(502).end());
  req.pipe(upstreamReq);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env['PORT']), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
