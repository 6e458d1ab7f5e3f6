import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface OpsServerOptions {
  /** host:port, :port, or "0" for none. */
  addr: string;
  /** /readyz answers 200 while this is true, else 503 with `notReady`. */
  ready?: () => boolean;
  notReady?: string;
  /** Serves /metrics when given. */
  registry?: Registry;
  /** Serves /healthz and /readyz (default true). */
  health?: boolean;
}

export interface OpsServer {
  url: string | undefined;
  close(): Promise<void>;
}

const urlOf = (server: Server): string => {
  const address = server.address() as AddressInfo;
  const host =
    address.family === 'IPv6'
      ? `[${address.address === '::' ? '::1' : address.address}]`
      : address.address === '0.0.0.0'
        ? '127.0.0.1'
        : address.address;
  return `http://${host}:${address.port}`;
};

/** The plain-HTTP operations endpoints of a service: /healthz, /readyz and /metrics (each optional). */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  if (options.addr === '0') return { url: undefined, close: async () => undefined };
  const { registry } = options;
  const health = options.health ?? true;
  const server = createServer((req, res) => {
    if (health && req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    if (health && req.url === '/readyz') {
      const ready = options.ready?.() ?? true;
      return void res
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ready ? 'ok' : (options.notReady ?? 'not ready'));
    }
    if (registry && req.url === '/metrics') {
      return void registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text))
        .catch(() => res.writeHead(500).end());
    }
    res.writeHead(404).end();
  });
  const split = options.addr.lastIndexOf(':');
  const host = split > 0 ? options.addr.slice(0, split) : undefined;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(options.addr.slice(split + 1)), host, () => resolve());
  });
  return {
    url: urlOf(server),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
