import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './free-port.js';
import { ManagedProcess } from './managed-process.js';

const root = resolve(import.meta.dirname, '..', '..');

export interface ControlPlaneProcess {
  url: string;
  adminKey: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export interface StartControlPlaneOptions {
  /** PostgreSQL URL; undefined: embedded PGlite in a fresh directory. */
  databaseUrl?: string;
  adminKey?: string;
  jwtSecret?: string;
  env?: NodeJS.ProcessEnv;
  /** Listen on this port (e.g. to restart on the same URL); default a free one. */
  port?: number;
}

/** The built `agentspec-control-plane` command as a real process, ready (`/readyz` 200) when this resolves. */
export async function startControlPlaneProcess(options: StartControlPlaneOptions = {}): Promise<ControlPlaneProcess> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'agentspec-cp-'));
  const adminKey = options.adminKey ?? 'test-admin-key-0c1d';
  const process_ = new ManagedProcess({
    name: 'agentspec-control-plane',
    command: process.execPath,
    args: [join(root, 'control-plane', 'dist', 'bin', 'control-plane.js')],
    logPath: join(dir, 'control-plane.log'),
    env: {
      ...process.env,
      PORT: String(port),
      AGENTSPEC_DATA_DIR: join(dir, 'data'),
      JWT_SECRET: options.jwtSecret ?? 'test-jwt-secret-0123456789abcdef0123456789',
      AGENTSPEC_ADMIN_KEY: adminKey,
      AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS: '0',
      AGENTSPEC_HEARTBEAT_INTERVAL_SECONDS: '1',
      LOG_LEVEL: 'warn',
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      ...options.env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await process_.waitUntil('ready', async () => (await fetch(`${url}/readyz`)).ok, 60_000);
  } catch (err) {
    await process_.stop();
    throw err;
  }
  return { url, adminKey, process: process_, stop: () => process_.stop() };
}
