// Starting beside its database: on a fresh `helm install` the control plane's pods start before the bundled
// PostgreSQL accepts connections. It waits for it (bounded), instead of crashing into CrashLoopBackOff; an error that
// is no outage (a wrong password) or an outage past the bound ends it at once, with the reason.
import { mkdtempSync, readFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, ManagedProcess, waitFor } from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';

const bin = resolve(import.meta.dirname, '..', 'dist', 'bin', 'control-plane.js');
const started: ManagedProcess[] = [];
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
  for (const server of servers.splice(0)) server.close();
});

function controlPlane(databaseUrl: string, port: number, env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'agentspec-startup-'));
  const proc = new ManagedProcess({
    name: 'agentspec-control-plane',
    command: process.execPath,
    args: [bin],
    logPath: join(dir, 'control-plane.log'),
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      JWT_SECRET: 'startup-jwt-secret-0123456789abcdef0123456789',
      AGENTSPEC_ADMIN_KEY: 'startup-admin-key',
      ...env,
    },
  });
  started.push(proc);
  return { proc, log: () => readFileSync(proc.options.logPath, 'utf8') };
}

/** A TCP forwarder to the real PostgreSQL that is started only when the test says so: the database "comes up". */
function databaseComingUp(target: URL, port: number): { up(): Promise<void> } {
  return {
    async up() {
      const server = createServer((client: Socket) => {
        const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
        client.pipe(upstream).pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      });
      servers.push(server);
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    },
  };
}

describe('control plane start-up', () => {
  it('waits for a database that is not up yet, then serves', async () => {
    const real = new URL(await testDatabase());
    const dbPort = await freePort();
    const proxied = new URL(real);
    proxied.host = `127.0.0.1:${dbPort}`;
    const port = await freePort();
    const { proc, log } = controlPlane(proxied.toString(), port);
    await waitFor('the wait to be announced', async () => log().includes('waiting for the database'));
    expect(proc.running).toBe(true);
    await databaseComingUp(real, dbPort).up();
    await waitFor('the control plane to be ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, {
      timeoutMs: 30_000,
    });
  });

  it('exits at once, naming the reason, when the database refuses its credentials', async () => {
    const url = new URL(await testDatabase());
    url.password = 'not-the-password';
    const { proc, log } = controlPlane(url.toString(), await freePort());
    await waitFor('the process to exit', async () => !proc.running, { timeoutMs: 30_000 });
    expect(log()).toMatch(/password authentication failed/);
    expect(log()).not.toContain('waiting for the database');
  });

  it('exits when the database stays away past AGENTSPEC_DATABASE_WAIT_SECONDS', async () => {
    const { proc, log } = controlPlane(`postgresql://u:p@127.0.0.1:${await freePort()}/db`, await freePort(), {
      AGENTSPEC_DATABASE_WAIT_SECONDS: '1',
    });
    await waitFor('the process to exit', async () => !proc.running, { timeoutMs: 30_000 });
    expect(log()).toContain('waiting for the database');
    expect(log()).toMatch(/ECONNREFUSED/);
  });
});
