// bench/heartbeat: heartbeats of 4 KB and 64 KB from N registered instances against the control plane on a real
// PostgreSQL, and in the same run against a bare node:http server that reads and parses the same bodies.
// Prints req/s, p50 and p99 for both and their ratios. Not part of `make test`: run `make bench`.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePort, startTestPostgres, waitFor } from '@agentspec/e2e';
import { heartbeatBody } from './bodies.js';
import { runLoad, type LoadResult } from './load.js';

const root = resolve(import.meta.dirname, '..', '..');
const instances = Number(process.env['BENCH_INSTANCES'] ?? 50);
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
const durationMs = Number(process.env['BENCH_SECONDS'] ?? 10) * 1000;
const adminKey = 'bench-admin-key';

const children: ChildProcess[] = [];

/** Starts a server process (tracked at once, so it is stopped whatever fails later) and waits until it answers. */
async function start(script: string, env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: 'ignore',
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    script,
    async () => (await fetch(`${url}/readyz`).catch(() => fetch(url, { method: 'POST', body: '{}' }))).status < 500,
    { timeoutMs: 30_000 },
  );
  return { url, child };
}

const row = (name: string, r: LoadResult): string =>
  `${name.padEnd(26)} ${r.perSecond.toFixed(0).padStart(8)} req/s   p50 ${r.p50ms.toFixed(2).padStart(7)} ms   p99 ${r.p99ms.toFixed(2).padStart(7)} ms   ${JSON.stringify(r.statuses)}`;

const postgres = await startTestPostgres();
try {
  const controlPlane = await start(join(root, 'control-plane', 'dist', 'bin', 'control-plane.js'), {
    DATABASE_URL: await postgres.createDatabase('bench'),
    JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123456789',
    AGENTSPEC_ADMIN_KEY: adminKey,
    AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS: '0',
    LOG_LEVEL: 'warn',
  });
  const baseline = await start(join(root, 'bench', 'dist', 'baseline-server.js'), {});

  const tokens: string[] = [];
  for (let i = 0; i < instances; i++) {
    const res = await fetch(`${controlPlane.url}/api/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-key': adminKey },
      body: JSON.stringify({
        agentName: `bench-${i % 10}`,
        namespace: 'bench',
        instanceId: `pod-${i}`,
        runtime: 'k8s',
      }),
    });
    tokens.push(((await res.json()) as { apiKey: string }).apiKey);
  }

  console.log(
    `bench/heartbeat: ${instances} instances, ${concurrency} concurrent, ${durationMs / 1000} s per run, PostgreSQL 17, Node ${process.version}`,
  );
  for (const size of [4 * 1024, 64 * 1024 - 512]) {
    const body = heartbeatBody(size, 95);
    const requests = tokens.map((token) => ({
      body,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    }));
    const base = await runLoad({ url: `${baseline.url}/`, requests, concurrency, durationMs });
    const cp = await runLoad({ url: `${controlPlane.url}/api/v1/heartbeat`, requests, concurrency, durationMs });
    console.log(`\n${(body.length / 1024).toFixed(1)} KB heartbeats`);
    console.log(row('baseline (node:http+parse)', base));
    console.log(row('control plane', cp));
    console.log(
      `ratio control plane / baseline: throughput ${(cp.perSecond / base.perSecond).toFixed(2)}   p50 ${(cp.p50ms / base.p50ms).toFixed(2)}×   p99 ${(cp.p99ms / base.p99ms).toFixed(2)}×`,
    );
  }
} finally {
  for (const child of children) child.kill('SIGTERM');
  await postgres.stop();
}
