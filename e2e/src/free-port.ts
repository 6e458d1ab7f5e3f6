import { createServer } from 'node:net';

/**
 * Ports handed out by freePort: below Linux's ephemeral range (32768–60999, where the kernel picks the local ports of
 * outgoing connections and of `listen(0)`), in a block of its own per vitest worker (VITEST_POOL_ID; 0 for the main
 * process and other programs), walked in order. So two workers, or a worker and a client socket, never get the same
 * port in the moment between choosing it and the child process listening on it — the race `listen(0)`-then-close
 * had under load (a test once reached another test's control plane on "its" port).
 */
const BASE = 20_000;
const BLOCK = 500;
const BLOCKS = 24; // 20000–31999
const pool = Number(process.env['VITEST_POOL_ID'] ?? 0) % BLOCKS;
let next = Math.floor(Math.random() * BLOCK); // separate runs of the same worker start apart

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that is free now and that no other worker of this run will be handed. */
export async function freePort(): Promise<number> {
  for (let tried = 0; tried < BLOCK; tried++) {
    const port = BASE + pool * BLOCK + (next++ % BLOCK);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${BASE + pool * BLOCK}–${BASE + pool * BLOCK + BLOCK - 1}`);
}
