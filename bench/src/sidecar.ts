// bench/sidecar: requests through the sidecar's proxy against, in the same run, (a) the same requests sent straight
// to the upstream and (b) a bare node:http pass-through proxy. Prints req/s, p50 and p99 for all three and ratios.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePort, waitFor } from '@agentspec/e2e';
import { runLoad, type LoadResult } from './load.js';

const root = resolve(import.meta.dirname, '..', '..');
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 16);
const durationMs = Number(process.env['BENCH_SECONDS'] ?? 10) * 1000;
const children: ChildProcess[] = [];

async function start(script: string, env: NodeJS.ProcessEnv, probe: string): Promise<void> {
  const profile = process.env['BENCH_CPU_PROFILE_DIR']
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROFILE_DIR']}`]
    : [];
  children.push(spawn(process.execPath, [...profile, script], { env: { ...process.env, ...env }, stdio: 'ignore' }));
  await waitFor(
    script,
    async () => (await fetch(probe, { method: 'POST', body: '{}' }).catch(() => undefined)) !== undefined,
    {
      timeoutMs: 30_000,
    },
  );
}

const row = (name: string, r: LoadResult): string =>
  `${name.padEnd(22)} ${r.perSecond.toFixed(0).padStart(8)} req/s   p50 ${r.p50ms.toFixed(2).padStart(6)} ms   p99 ${r.p99ms.toFixed(2).padStart(6)} ms   ${JSON.stringify(r.statuses)}`;

try {
  const [upstreamPort, barePort, proxyPort, diagnosticsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const upstream = `http://127.0.0.1:${upstreamPort}`;
  await start(join(root, 'bench', 'dist', 'upstream-agent.js'), { PORT: String(upstreamPort) }, `${upstream}/`);
  await start(
    join(root, 'bench', 'dist', 'bare-proxy.js'),
    { PORT: String(barePort), UPSTREAM_URL: upstream },
    `http://127.0.0.1:${barePort}/`,
  );
  await start(
    join(root, 'sidecar', 'dist', 'bin', 'sidecar.js'),
    {
      UPSTREAM_URL: upstream,
      MANIFEST_PATH: join(root, 'examples', 'minimal', 'agent.yaml'),
      PROXY_PORT: String(proxyPort),
      CONTROL_PLANE_PORT: String(diagnosticsPort),
      LOG_LEVEL: 'warn',
    },
    `http://127.0.0.1:${proxyPort}/`,
  );
  const requests = [
    {
      body: JSON.stringify({ message: 'Plan a leg day for a beginner.' }),
      headers: { 'content-type': 'application/json' },
    },
  ];
  const load = (url: string) => runLoad({ url, requests, concurrency, durationMs });
  await load(`http://127.0.0.1:${proxyPort}/chat`); // warm-up, not reported
  const direct = await load(`${upstream}/chat`);
  const bare = await load(`http://127.0.0.1:${barePort}/chat`);
  const sidecar = await load(`http://127.0.0.1:${proxyPort}/chat`);
  console.log(
    `bench/sidecar: POST with a small JSON answer, ${concurrency} concurrent, ${durationMs / 1000} s per run, Node ${process.version}`,
  );
  console.log(row('direct to upstream', direct));
  console.log(row('bare node:http proxy', bare));
  console.log(row('agentspec-sidecar', sidecar));
  console.log(
    `ratio sidecar / bare proxy: throughput ${(sidecar.perSecond / bare.perSecond).toFixed(2)}   p99 +${(sidecar.p99ms - bare.p99ms).toFixed(2)} ms (aim: ≥ 1.00 and within 1 ms)`,
  );
  console.log(
    `ratio sidecar / direct: throughput ${(sidecar.perSecond / direct.perSecond).toFixed(2)}; bare proxy / direct: ${(bare.perSecond / direct.perSecond).toFixed(2)}`,
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
}
