import { connect, type Socket } from 'node:net';
import type { Endpoint } from './endpoint.js';

/** Opens a TCP connection and resolves with the time it took. */
export async function tcpProbe(endpoint: Endpoint, timeoutMs: number): Promise<number> {
  const started = performance.now();
  const socket = await openSocket(endpoint, timeoutMs);
  socket.destroy();
  return Math.round(performance.now() - started);
}

function openSocket(endpoint: Endpoint, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () =>
      fail(new Error(`no answer from ${endpoint.host}:${endpoint.port} within ${timeoutMs} ms`)),
    );
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.removeListener('error', fail);
      resolve(socket);
    });
  });
}

/** RESP: an array of bulk strings. */
function respCommand(...parts: string[]): string {
  return `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
}

/** Redis PING (after AUTH when the URL carries credentials); resolves with the latency. */
export async function redisPing(endpoint: Endpoint, timeoutMs: number): Promise<number> {
  const started = performance.now();
  const socket = await openSocket(endpoint, timeoutMs);
  try {
    const commands: string[][] = [];
    const password = endpoint.url?.password ? decodeURIComponent(endpoint.url.password) : undefined;
    if (password) {
      const user = endpoint.url?.username ? decodeURIComponent(endpoint.url.username) : undefined;
      commands.push(user ? ['AUTH', user, password] : ['AUTH', password]);
    }
    commands.push(['PING']);
    const replies = await new Promise<string[]>((resolve, reject) => {
      let buffer = '';
      socket.setTimeout(timeoutMs, () => reject(new Error(`redis did not answer PING within ${timeoutMs} ms`)));
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        const lines = buffer.split('\r\n').filter(Boolean);
        if (lines.length >= commands.length) resolve(lines);
      });
      socket.write(commands.map((c) => respCommand(...c)).join(''));
    });
    const last = replies[commands.length - 1] ?? '';
    const authError = replies.find((r) => r.startsWith('-'));
    if (authError) throw new Error(`redis answered ${authError.slice(1).split(' ')[0]}: ${authError.slice(1)}`);
    if (last !== '+PONG') throw new Error(`redis answered ${JSON.stringify(last)} to PING`);
    return Math.round(performance.now() - started);
  } finally {
    socket.destroy();
  }
}

/** Postgres `SELECT 1` with the connection string; resolves with the latency. */
export async function postgresPing(connectionString: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  // pg is an optional peer dependency, loaded only by agents that declare a PostgreSQL service.
  const { default: pg } = await import('pg').catch(() => {
    throw new Error('the PostgreSQL check needs the "pg" package: npm install pg');
  });
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return Math.round(performance.now() - started);
  } finally {
    await client.end().catch(() => undefined);
  }
}
