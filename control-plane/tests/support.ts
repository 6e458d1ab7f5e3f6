// Helpers shared by the control plane's integration tests (not a test file itself).
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ControlPlaneClient, type FleetEvent } from '@agentspec/sdk';
import WebSocket from 'ws';
import { listenOnLoopback } from '@agentspec/e2e';
import { createApp } from '../src/app.js';
import type { AppContext } from '../src/app-context.js';
import { loadConfig } from '../src/config.js';
import { migrateToLatest, openDatabase } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';

export const JWT_SECRET = 'test-jwt-secret-that-is-long-enough-0123456789';
export const ADMIN_KEY = 'test-admin-key-5e1f';

export interface TestControlPlane {
  url: string;
  context: AppContext;
  logs: string[];
  close(): Promise<void>;
}

/** The app on a real database (a PostgreSQL URL, or PGlite in a fresh directory), listening on loopback. */
export async function startTestControlPlane(
  databaseUrl: string | undefined,
  env: NodeJS.ProcessEnv = {},
): Promise<TestControlPlane> {
  const config = loadConfig({
    JWT_SECRET,
    AGENTSPEC_ADMIN_KEY: ADMIN_KEY,
    AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS: '0',
    AGENTSPEC_DATA_DIR: mkdtempSync(join(tmpdir(), 'agentspec-cp-')),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...env,
  });
  const database = await openDatabase(config);
  await migrateToLatest(database.db);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const { app, attach, context, start, stop } = createApp({
    config,
    database,
    logger: createLogger('debug', [config.adminKey, config.jwtSecret], sink),
  });
  await start();
  const server: Server = createServer(app);
  attach(server);
  const url = await listenOnLoopback(server);
  return {
    url,
    context,
    logs,
    async close() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await stop();
      await closed;
      await database.close();
    },
  };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export async function register(
  base: string,
  body: Record<string, unknown>,
  adminKey = ADMIN_KEY,
): Promise<{
  agentId: string;
  instanceId: string;
  apiKey: string;
  expiresAt: string;
  heartbeatIntervalSeconds: number;
}> {
  const res = await post(`${base}/api/v1/register`, body, { 'x-admin-key': adminKey });
  if (res.status !== 201) throw new Error(`register answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Awaited<ReturnType<typeof register>>;
}

export function heartbeat(
  base: string,
  token: string,
  body: unknown = { health: { status: 'healthy' }, gap: { score: 90 } },
): Promise<Response> {
  return post(`${base}/api/v1/heartbeat`, body, { authorization: `Bearer ${token}` });
}

export async function adminGet(base: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, { headers: { 'x-admin-key': ADMIN_KEY } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export interface CollectedEvents {
  events: FleetEvent[];
  resets: number;
  /** Resolves once the stream answered 200. */
  opened: Promise<void>;
  close(): Promise<void>;
}

/** Reads GET /api/v1/events into an array until closed. */
export function collectEvents(
  base: string,
  options: { lastEventId?: number; namespace?: string } = {},
): CollectedEvents {
  const controller = new AbortController();
  const client = new ControlPlaneClient({ baseUrl: base, adminKey: ADMIN_KEY });
  const collected = { events: [] as FleetEvent[], resets: 0 };
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const done = client
    .streamEvents({
      ...options,
      signal: controller.signal,
      onOpen: () => open(),
      onEvent: (event) => collected.events.push(event),
      onReset: () => collected.resets++,
    })
    .catch(() => undefined);
  return Object.assign(collected, {
    opened,
    async close() {
      controller.abort();
      await done;
    },
  });
}

/** Seed 003's connection envelope of one instance (POST /api/v1/agents/get_connection with the admin key). */
export async function getConnection(
  base: string,
  body: { instance_id: string; namespace?: string },
): Promise<{ transport?: string; deployment_mode?: string; last_heartbeat?: string | null }> {
  return (await (await post(`${base}/api/v1/agents/get_connection`, body, { 'x-admin-key': ADMIN_KEY })).json()) as {
    transport?: string;
    deployment_mode?: string;
    last_heartbeat?: string | null;
  };
}

/** The HTTP status a WebSocket upgrade of `url` gets (101 when it opens; the socket is closed either way). */
export function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('error', () => undefined);
  });
}
