// bench/events: 1,000 instances heartbeating against the control plane on a real PostgreSQL, first with no event
// subscriber, then with 10 SSE subscribers in the same run. Prints heartbeat throughput of both and their ratio
// (events must not halve ingest: aim ≥ 0.8), events/s delivered to each subscriber, the delay from an event's
// creation (just before its commit) to a subscriber (p50, p99; aim < 250 ms) and the control plane's RSS per idle
// subscriber. Not part of `make test`: run `make bench`.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ControlPlaneClient } from '@agentspec/sdk';
import { freePort, startTestPostgres, waitFor } from '@agentspec/e2e';
import { runLoad, type LoadResult } from './load.js';
import { percentile, rssKiB } from './usage.js';

const root = resolve(import.meta.dirname, '..', '..');
const instances = Number(process.env['BENCH_INSTANCES'] ?? 1000);
const subscribers = Number(process.env['BENCH_SUBSCRIBERS'] ?? 10);
const idleSubscribers = Number(process.env['BENCH_IDLE_SUBSCRIBERS'] ?? 100);
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 32);
const durationMs = Number(process.env['BENCH_SECONDS'] ?? 10) * 1000;
const adminKey = 'bench-admin-key';

/** Subscribers reading the stream; each records when every event arrived against when it was created. */
function subscribe(client: ControlPlaneClient, count: number) {
  const controller = new AbortController();
  const delays: number[] = [];
  const received = new Array<number>(count).fill(0);
  const opened: Promise<void>[] = [];
  for (let n = 0; n < count; n++) {
    opened.push(
      new Promise((resolveOpen) => {
        void client
          .streamEvents({
            signal: controller.signal,
            onOpen: () => resolveOpen(),
            onEvent: (event) => {
              received[n]!++;
              delays.push(Date.now() - Date.parse(event.at));
            },
          })
          .catch(() => undefined);
      }),
    );
  }
  return { opened: Promise.all(opened), delays, received, close: () => controller.abort() };
}

const children: ChildProcess[] = [];
const postgres = await startTestPostgres();
try {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [join(root, 'control-plane', 'dist', 'bin', 'control-plane.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: await postgres.createDatabase('bench_events'),
      JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123456789',
      AGENTSPEC_ADMIN_KEY: adminKey,
      AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS: '0',
      AGENTSPEC_EVENTS_MAX_SUBSCRIBERS: String(idleSubscribers + subscribers + 10),
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  children.push(child);
  await waitFor('the control plane', async () => (await fetch(`${url}/readyz`)).ok, { timeoutMs: 30_000 });
  const client = new ControlPlaneClient({ baseUrl: url, adminKey });

  const tokens: string[] = [];
  for (let i = 0; i < instances; i++) {
    const registration = await client.register({
      agentName: `fleet-${i % 100}`,
      namespace: 'bench',
      instanceId: `pod-${i}`,
      runtime: 'k8s',
      intervalSeconds: 1,
    });
    tokens.push(registration.apiKey);
  }
  // Scores move with every round so heartbeat events are not all coalesced away: at most one per instance a second.
  const requests = tokens.flatMap((token, i) =>
    [90, 91].map((score) => ({
      body: JSON.stringify({ health: { status: 'healthy' }, gap: { score: score - (i % 3) } }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    })),
  );
  console.log(
    `bench/events: ${instances} instances, ${concurrency} concurrent heartbeats, ${subscribers} subscribers, ` +
      `${durationMs / 1000} s per run, PostgreSQL 17, Node ${process.version}`,
  );
  const heartbeatUrl = `${url}/api/v1/heartbeat`;
  await runLoad({ url: heartbeatUrl, requests, concurrency, durationMs: 2_000 }); // warm-up
  const alone: LoadResult = await runLoad({ url: heartbeatUrl, requests, concurrency, durationMs });

  const readers = subscribe(client, subscribers);
  await readers.opened;
  const watched: LoadResult = await runLoad({ url: heartbeatUrl, requests, concurrency, durationMs });
  await new Promise((r) => setTimeout(r, 1_000)); // the last events in flight
  readers.close();
  readers.delays.sort((a, b) => a - b);

  const before = rssKiB(child.pid!);
  const idle = subscribe(client, idleSubscribers);
  await idle.opened;
  const after = rssKiB(child.pid!);
  idle.close();

  const row = (name: string, r: LoadResult): string =>
    `${name.padEnd(28)} ${r.perSecond.toFixed(0).padStart(7)} heartbeats/s   p50 ${r.p50ms.toFixed(2)} ms   p99 ${r.p99ms.toFixed(2)} ms   ${JSON.stringify(r.statuses)}`;
  console.log(row('heartbeats, no subscriber', alone));
  console.log(row(`heartbeats, ${subscribers} subscribers`, watched));
  console.log(`ratio with / without subscribers: ${(watched.perSecond / alone.perSecond).toFixed(2)} (aim ≥ 0.8)`);
  const perSubscriber = readers.received.reduce((a, b) => a + b, 0) / subscribers / (watched.seconds + 1);
  console.log(`events delivered: ${perSubscriber.toFixed(0)} events/s to each subscriber`);
  console.log(
    `delay from creation to subscriber: p50 ${percentile(readers.delays, 50)} ms   p99 ${percentile(readers.delays, 99)} ms (aim p99 < 250 ms)`,
  );
  console.log(
    `control-plane RSS: ${(before / 1024).toFixed(1)} MiB, with ${idleSubscribers} idle subscribers ` +
      `${(after / 1024).toFixed(1)} MiB: ${((after - before) / idleSubscribers).toFixed(1)} KiB per subscriber`,
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
  await postgres.stop();
}
