// bench/connect: connected mode at fleet scale. 5,000 instances hold a WebSocket each to one control-plane process on
// a real PostgreSQL (the clients — the SDK's ConnectedChannel — in this process, on the same machine). Prints:
// - the control plane's RSS per connection (aim ≤ 20 KiB),
// - heartbeat throughput over the sockets against HTTP push in the same run, same bodies, same in-flight count
//   (aim ≥ 1.5×: no per-request HTTP parsing and JWT check),
// - the reconnect storm after a control-plane restart: with every instance heartbeating at its interval, the
//   control plane's arrivals per second (upgrades and frames, from its own agentspec_connect_messages_total) at their
//   peak against the steady rate before the restart (aim ≤ 2×, which the SDK's reconnect spread provides), its RSS
//   at the peak against before, and the time until every instance is connected again (aim ≤ 30 s).
// Not part of `make test`: run `make bench`.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ConnectedChannel, ControlPlaneClient, connectUrlFor, reconnectSpreadFor } from '@agentspec/sdk';
import { freePort, startTestPostgres, waitFor } from '@agentspec/e2e';
import { heartbeatBody } from './bodies.js';
import { runLoad } from './load.js';
import { percentile, rssKiB } from './usage.js';
import { metricSum, scrape } from './prometheus.js';

const root = resolve(import.meta.dirname, '..', '..');
const agents = Number(process.env['BENCH_AGENTS'] ?? 5000);
const intervalSeconds = Number(process.env['BENCH_INTERVAL_SECONDS'] ?? 10);
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
const durationMs = Number(process.env['BENCH_SECONDS'] ?? 10) * 1000;
const adminKey = 'bench-admin-key';

const countBy = (values: number[]): Record<number, number> =>
  values.reduce<Record<number, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {});

const children: ChildProcess[] = [];
const channels: ConnectedChannel[] = [];
const timers: NodeJS.Timeout[] = [];
const postgres = await startTestPostgres();
try {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const databaseUrl = await postgres.createDatabase('bench_connect');
  const startControlPlane = async (): Promise<ChildProcess> => {
    const child = spawn(process.execPath, [join(root, 'control-plane', 'dist', 'bin', 'control-plane.js')], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl,
        JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123456789',
        AGENTSPEC_ADMIN_KEY: adminKey,
        AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS: '0',
        AGENTSPEC_HEARTBEAT_INTERVAL_SECONDS: String(intervalSeconds),
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
    children.push(child);
    await waitFor('the control plane', async () => (await fetch(`${url}/readyz`)).ok, { timeoutMs: 60_000 });
    return child;
  };
  let child = await startControlPlane();
  const client = new ControlPlaneClient({ baseUrl: url, adminKey });

  const tokens = new Array<string>(agents);
  let nextToRegister = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = nextToRegister++; i < agents; i = nextToRegister++) {
        const registration = await client.register({
          agentName: `fleet-${i % 100}`,
          namespace: 'bench',
          instanceId: `pod-${i}`,
          runtime: 'k8s',
          intervalSeconds,
        });
        tokens[i] = registration.apiKey;
      }
    }),
  );
  console.log(
    `bench/connect: ${agents} connected instances, heartbeat interval ${intervalSeconds} s, ${concurrency} in flight ` +
      `for throughput, ${durationMs / 1000} s per run, PostgreSQL 17, Node ${process.version}`,
  );

  // 1. Memory per connection.
  const before = rssKiB(child.pid!);
  const connectUrl = connectUrlFor(url);
  const connected = () => channels.filter((c) => c.connected).length;
  const openingStarted = Date.now();
  for (let i = 0; i < agents; i += 250) {
    for (const token of tokens.slice(i, i + 250)) {
      // As push mode and auto-registration configure it for this interval.
      channels.push(
        new ConnectedChannel({
          url: connectUrl,
          token: () => token,
          reconnectSpreadMs: reconnectSpreadFor(intervalSeconds * 1000),
          replayGapMs: intervalSeconds * 1000,
          log: () => undefined,
        }),
      );
    }
    await waitFor(`${channels.length} sockets open`, async () => connected() === channels.length, {
      timeoutMs: 60_000,
    });
  }
  const held = rssKiB(child.pid!);
  const perConnection = (held - before) / agents;
  console.log(
    `\ncontrol-plane RSS: ${(before / 1024).toFixed(1)} MiB registered, ${(held / 1024).toFixed(1)} MiB with ` +
      `${agents} sockets: ${perConnection.toFixed(1)} KiB per connection (aim ≤ 20 KiB); opened in ` +
      `${((Date.now() - openingStarted) / 1000).toFixed(1)} s, 250 at a time`,
  );

  // 2. Throughput: the same 4 KB heartbeats, the same instances, the same number in flight.
  const body = heartbeatBody(4 * 1024, 95);
  const parsed = JSON.parse(body) as unknown;
  const overSockets = async (ms: number) => {
    const latencies: number[] = [];
    const outcomes: Record<string, number> = {};
    const started = performance.now();
    const deadline = started + ms;
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const channel = channels[next++ % channels.length]!;
          const t0 = performance.now();
          const sent = await channel.send(parsed);
          latencies.push(performance.now() - t0);
          outcomes[sent.result] = (outcomes[sent.result] ?? 0) + 1;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { perSecond: (outcomes['acked'] ?? 0) / seconds, latencies, outcomes };
  };
  const requests = tokens.map((token) => ({
    body,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  }));
  // Warm-up: every instance's documents stored once, so both runs measure the steady state (unchanged documents),
  // not first heartbeats (bench/heartbeat measures those).
  let warmed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = warmed++; i < channels.length; i = warmed++) await channels[i]!.send(parsed);
    }),
  );
  await runLoad({ url: `${url}/api/v1/heartbeat`, requests, concurrency, durationMs: 2_000 });
  // Two rounds each, alternating, so a slow moment of the machine does not land on one side only.
  const wsRounds = [];
  const httpRounds = [];
  for (let round = 0; round < 2; round++) {
    wsRounds.push(await overSockets(durationMs / 2));
    httpRounds.push(
      await runLoad({ url: `${url}/api/v1/heartbeat`, requests, concurrency, durationMs: durationMs / 2 }),
    );
  }
  const ws = {
    perSecond: wsRounds.reduce((sum, r) => sum + r.perSecond, 0) / wsRounds.length,
    latencies: wsRounds.flatMap((r) => r.latencies).sort((a, b) => a - b),
    outcomes: wsRounds.reduce<Record<string, number>>((acc, r) => {
      for (const [k, v] of Object.entries(r.outcomes)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
  };
  const http = {
    perSecond: httpRounds.reduce((sum, r) => sum + r.perSecond, 0) / httpRounds.length,
    p50ms: httpRounds.reduce((sum, r) => sum + r.p50ms, 0) / httpRounds.length,
    p99ms: Math.max(...httpRounds.map((r) => r.p99ms)),
    statuses: httpRounds.reduce<Record<string, number>>((acc, r) => {
      for (const [k, v] of Object.entries(r.statuses)) acc[k] = (acc[k] ?? 0) + v;
      return acc;
    }, {}),
  };
  console.log(
    `\nheartbeats over WebSocket ${ws.perSecond.toFixed(0).padStart(6)}/s   p50 ${percentile(ws.latencies, 50).toFixed(2)} ms   ` +
      `p99 ${percentile(ws.latencies, 99).toFixed(2)} ms   ${JSON.stringify(ws.outcomes)}`,
  );
  console.log(
    `heartbeats over HTTP      ${http.perSecond.toFixed(0).padStart(6)}/s   p50 ${http.p50ms.toFixed(2)} ms   ` +
      `p99 ${http.p99ms.toFixed(2)} ms   ${JSON.stringify(http.statuses)}`,
  );
  console.log(`ratio WebSocket / HTTP: ${(ws.perSecond / http.perSecond).toFixed(2)} (aim ≥ 1.5)`);

  // 3. The fleet at its interval, then a restart.
  const small = { health: { status: 'healthy', checks: [] }, gap: { score: 95, grade: 'A', violations: [] } };
  for (const channel of channels) {
    const beat = () => void channel.send(small);
    timers.push(
      setTimeout(
        () => {
          beat();
          timers.push(setInterval(beat, intervalSeconds * 1000));
        },
        Math.random() * intervalSeconds * 1000,
      ),
    );
  }
  interface Sample {
    at: number;
    pid: number;
    arrivals: number;
    rss: number;
  }
  const samples: Sample[] = [];
  const sample = async (): Promise<void> => {
    const pid = child.pid!;
    try {
      const arrivals = metricSum(await scrape(`${url}/metrics`), 'agentspec_connect_messages_total');
      samples.push({ at: Date.now(), pid, arrivals, rss: rssKiB(pid) });
    } catch {
      // restarting: no sample
    }
  };
  const sampler = setInterval(() => void sample(), 1_000);
  timers.push(sampler);
  // Rates over two sampling intervals: one late scrape must not read as a spike.
  const rates = (from: number, to: number) => {
    const out: { at: number; perSecond: number; rss: number }[] = [];
    for (let i = 2; i < samples.length; i++) {
      const [a, b] = [samples[i - 2]!, samples[i]!];
      if (b.at < from || b.at > to) continue;
      // A new process counts from 0: across the restart, take what the new one counted since it started.
      const arrived = a.pid === b.pid ? b.arrivals - a.arrivals : b.arrivals;
      out.push({ at: b.at, perSecond: (arrived * 1000) / (b.at - a.at), rss: b.rss });
    }
    return out;
  };
  // One interval to settle into the rhythm, two to measure it.
  await new Promise((r) => setTimeout(r, intervalSeconds * 1000));
  const steadyFrom = Date.now();
  await new Promise((r) => setTimeout(r, 2 * intervalSeconds * 1000));
  const steady = rates(steadyFrom, Date.now());
  const steadyRate = steady.reduce((s, r) => s + r.perSecond, 0) / steady.length;
  const steadyRss = Math.max(...steady.map((r) => r.rss));

  const restartedAt = Date.now();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  const stoppedAfter = (Date.now() - restartedAt) / 1000;
  // When each instance is seen connected again (polled every 100 ms).
  const backAt = new Array<number>(agents).fill(0);
  const watcher = setInterval(() => {
    channels.forEach((c, i) => {
      if (!backAt[i] && c.connected) backAt[i] = Date.now() - restartedAt;
    });
  }, 100);
  timers.push(watcher);
  child = await startControlPlane();
  const readyAfter = (Date.now() - restartedAt) / 1000;
  await waitFor('every instance connected again', async () => connected() === agents, { timeoutMs: 120_000 });
  clearInterval(watcher);
  const back = [...backAt].sort((a, b) => a - b);
  const reconnectedAfter = (Date.now() - restartedAt) / 1000;
  await new Promise((r) => setTimeout(r, 2_000)); // the last second's sample
  const storm = rates(restartedAt, Date.now());
  const peak = storm.reduce((m, r) => Math.max(m, r.perSecond), 0);
  const stormRss = Math.max(...storm.map((r) => r.rss));
  console.log(
    `\nsteady: ${steadyRate.toFixed(0)} arrivals/s (upgrades and frames), RSS ${(steadyRss / 1024).toFixed(1)} MiB`,
  );
  console.log(
    `restart: the old process exited ${stoppedAfter.toFixed(1)} s after SIGTERM, the new one was ready at ` +
      `${readyAfter.toFixed(1)} s; every instance reconnected ${reconnectedAfter.toFixed(1)} s after SIGTERM (aim ≤ 30 s); ` +
      `peak (2 s windows) ${peak.toFixed(0)} arrivals/s = ${(peak / steadyRate).toFixed(2)}× steady (aim ≤ 2×); ` +
      `peak RSS ${(stormRss / 1024).toFixed(1)} MiB = ${(stormRss / steadyRss).toFixed(2)}× steady`,
  );
  console.log(
    `reconnected after SIGTERM: p50 ${(percentile(back, 50) / 1000).toFixed(1)} s, p90 ${(percentile(back, 90) / 1000).toFixed(1)} s, ` +
      `p99 ${(percentile(back, 99) / 1000).toFixed(1)} s, last ${((back.at(-1) ?? 0) / 1000).toFixed(1)} s; ` +
      `sockets opened per instance: ${JSON.stringify(countBy(channels.map((c) => c.opened)))}`,
  );
  console.log(`arrivals/s after the restart: ${storm.map((r) => r.perSecond.toFixed(0)).join(' ')}`);
} finally {
  for (const timer of timers) clearTimeout(timer);
  for (const channel of channels) channel.close();
  for (const child of children) child.kill('SIGTERM');
  await postgres.stop();
}
