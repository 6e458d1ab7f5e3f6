import type { Server } from 'node:net';
import { freePort } from './free-port.js';

/** Listens on a free 127.0.0.1 port and resolves with the server's base URL (http:// unless `scheme` says). */
export async function listenOnLoopback(server: Server, scheme: 'http' | 'https' = 'http'): Promise<string> {
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  return `${scheme}://127.0.0.1:${port}`;
}
