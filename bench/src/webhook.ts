// bench/webhook: AdmissionReview load (recorded Pod CREATE reviews) against the webhook's /mutate and, in the same
// run, against a no-op HTTPS handler that admits the same bodies unchanged. Prints req/s, p50, p99 and ratios.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitFor } from '@agentspec/e2e';
import { createCertificateAuthority } from '@agentspec/webhook';
import { runLoad, type LoadResult } from './load.js';

const root = resolve(import.meta.dirname, '..', '..');
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const durationMs = Number(process.env['BENCH_SECONDS'] ?? 10) * 1000;

const dir = mkdtempSync(join(tmpdir(), 'bench-webhook-'));
const ca = await createCertificateAuthority('bench-webhook', 1);
const leaf = await ca.issue({ subject: 'CN=agentspec-webhook', ipAddresses: ['127.0.0.1'], usage: 'server' });
writeFileSync(join(dir, 'tls.crt'), leaf.certPem);
writeFileSync(join(dir, 'tls.key'), leaf.keyPem);

const children: ChildProcess[] = [];
async function start(script: string, args: string[], env: NodeJS.ProcessEnv, ready: () => Promise<boolean>) {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: 'ignore' });
  children.push(child);
  await waitFor(script, ready, { timeoutMs: 30_000 });
}

const row = (name: string, r: LoadResult): string =>
  `${name.padEnd(24)} ${r.perSecond.toFixed(0).padStart(8)} req/s   p50 ${r.p50ms.toFixed(2).padStart(6)} ms   p99 ${r.p99ms.toFixed(2).padStart(6)} ms   ${JSON.stringify(r.statuses)}`;

try {
  const [webhookPort, healthPort, noopPort] = [await freePort(), await freePort(), await freePort()];
  await start(
    join(root, 'webhook', 'dist', 'bin', 'webhook.js'),
    ['--tls-mode=files', `--cert-dir=${dir}`, '--log-level=warn'],
    {
      PORT: String(webhookPort),
      HEALTH_PORT: String(healthPort),
      AGENTSPEC_CONTROL_PLANE_URL: 'http://agentspec-control-plane.agentspec-system:8080',
    },
    async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined))?.ok === true,
  );
  await start(
    join(root, 'bench', 'dist', 'noop-admission-server.js'),
    [],
    { PORT: String(noopPort), TLS_CERT: join(dir, 'tls.crt'), TLS_KEY: join(dir, 'tls.key') },
    async () => {
      const { request } = await import('node:https');
      return new Promise((ok) => {
        const req = request(`https://127.0.0.1:${noopPort}/`, { ca: ca.certPem, method: 'POST' }, () => ok(true));
        req.on('error', () => ok(false));
        req.end('{"request":{"uid":"x"}}');
      });
    },
  );
  const fixtures = ['pod-without-env', 'pod-with-env', 'pod-with-sidecar', 'pod-user-values', 'pod-unlabelled'];
  const requests = fixtures.map((name) => ({
    body: readFileSync(join(root, 'webhook', 'fixtures', `${name}.json`), 'utf8'),
    headers: { 'content-type': 'application/json' },
  }));
  const load = (url: string) => runLoad({ url, requests, concurrency, durationMs, ca: ca.certPem });
  await load(`https://127.0.0.1:${webhookPort}/mutate`); // warm-up (JIT, TLS sessions), not reported
  const noop = await load(`https://127.0.0.1:${noopPort}/`);
  const webhook = await load(`https://127.0.0.1:${webhookPort}/mutate`);
  console.log(
    `bench/webhook: recorded Pod CREATE reviews (${fixtures.length} kinds), ${concurrency} concurrent, ${durationMs / 1000} s per run, Node ${process.version}`,
  );
  console.log(row('no-op HTTPS handler', noop));
  console.log(row('agentspec-webhook', webhook));
  console.log(
    `ratio webhook / no-op: throughput ${(webhook.perSecond / noop.perSecond).toFixed(2)}   p50 +${(webhook.p50ms - noop.p50ms).toFixed(2)} ms   p99 +${(webhook.p99ms - noop.p99ms).toFixed(2)} ms (aim: within 2 ms)`,
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
}
