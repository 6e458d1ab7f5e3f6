// Real control-plane processes: rate limits and revocations hold across replicas, and a database outage under
// traffic makes /readyz go 503 then 200 without losing an acknowledged heartbeat or crashing.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startTestPostgres, waitFor } from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';
import { ADMIN_KEY, JWT_SECRET, adminGet, heartbeat, register } from '../tests/support.js';

const bin = resolve(import.meta.dirname, '..', 'dist', 'bin', 'control-plane.js');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

async function startProcess(
  databaseUrl: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [bin], {
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      JWT_SECRET,
      AGENTSPEC_ADMIN_KEY: ADMIN_KEY,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('the control plane to be ready', async () => (await fetch(`${url}/readyz`)).status === 200, {
    timeoutMs: 30_000,
  });
  return { url, child, output: () => output };
}

describe('two control-plane processes on one database', () => {
  it('share the rate limit and the revocations', async () => {
    const database = await testDatabase();
    const [one, two] = await Promise.all([
      startProcess(database, { AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS: '30' }),
      startProcess(database, { AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS: '30' }),
    ]);
    const reg = await register(one.url, { agentName: 'shared', namespace: 'ha', instanceId: 'p1', runtime: 'k8s' });
    expect((await heartbeat(two.url, reg.apiKey)).status).toBe(204);
    const limited = await heartbeat(one.url, reg.apiKey);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeTruthy();

    const other = await register(two.url, { agentName: 'revoked', namespace: 'ha', instanceId: 'p1', runtime: 'k8s' });
    expect((await heartbeat(one.url, other.apiKey)).status).toBe(204);
    const del = await fetch(`${one.url}/api/v1/namespaces/ha/agents/revoked`, {
      method: 'DELETE',
      headers: { 'x-admin-key': ADMIN_KEY },
    });
    expect(del.status).toBe(204);
    expect((await heartbeat(two.url, other.apiKey)).status).toBe(401);
    for (const p of [one, two]) {
      p.child.kill('SIGTERM');
      expect(await new Promise((r) => p.child.once('exit', r))).toBe(0);
    }
  });
});

describe('database outage under traffic', () => {
  it('goes not-ready, refuses rather than acknowledges, and recovers by itself with every acknowledged heartbeat kept', async () => {
    const postgres = await startTestPostgres();
    try {
      const { url, child, output } = await startProcess(await postgres.createDatabase('outage'), {
        AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS: '0',
      });
      /** GET on the control plane; when it fails, whether the process is still there and what it said. */
      const readyz = async (): Promise<Response> => {
        try {
          return await fetch(`${url}/readyz`);
        } catch (err) {
          const how = child.exitCode ?? child.signalCode;
          const state = how === null ? 'still running' : `exited (${how})`;
          throw new Error(`${String(err)}; the control plane is ${state}; its output:\n${output().slice(-4000)}`, {
            cause: err,
          });
        }
      };
      const tokens = await Promise.all(
        ['a', 'b', 'c'].map(
          async (id) =>
            (await register(url, { agentName: 'busy', namespace: 'load', instanceId: id, runtime: 'local' })).apiKey,
        ),
      );
      // Every heartbeat carries a distinct score, so each acknowledged one leaves its own history row.
      const acknowledged: number[] = [];
      const statuses = new Set<number>();
      let next = 0;
      let running = true;
      const traffic = (async () => {
        while (running) {
          const score = next++ % 101;
          const token = tokens[score % tokens.length] ?? '';
          try {
            const res = await heartbeat(url, token, { health: { status: 'healthy' }, gap: { score } });
            statuses.add(res.status);
            if (res.status === 204) acknowledged.push(score);
          } catch {
            statuses.add(0);
          }
          if (next >= 100 && acknowledged.length >= 30) break;
          await new Promise((r) => setTimeout(r, 20));
        }
      })();

      await waitFor('some heartbeats before the outage', async () => acknowledged.length >= 10, { timeoutMs: 20_000 });
      await postgres.pause();
      await waitFor('/readyz to report the outage', async () => (await readyz()).status === 503, {
        timeoutMs: 20_000,
      });
      // The database's own error is logged, not told to an unauthenticated caller.
      expect(await (await readyz()).json()).toEqual({
        status: 'not-ready',
        error: 'DatabaseUnavailable',
        message: 'the database does not answer',
      });
      await waitFor('a heartbeat answered 503 during the outage', async () => statuses.has(503), { timeoutMs: 20_000 });
      await postgres.resume();
      await waitFor('/readyz to recover', async () => (await readyz()).status === 200, {
        timeoutMs: 30_000,
      });
      running = false;
      await traffic;

      expect(statuses.has(503)).toBe(true);
      expect(child.exitCode).toBeNull();
      // History keeps changes only: consecutive equal scores would merge, but every score here differs from the
      // previous one of its instance, so each acknowledged heartbeat has a row.
      const history = (await adminGet(url, '/api/v1/namespaces/load/agents/busy/history')).body['items'] as {
        score: number;
      }[];
      const stored = new Set(history.map((h) => h.score));
      expect(acknowledged.filter((s) => !stored.has(s))).toEqual([]);
      expect(output()).not.toContain(JWT_SECRET);
    } finally {
      await postgres.stop();
    }
  }, 120_000);
});
