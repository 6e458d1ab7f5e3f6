// bench/heartbeat: heartbeats against the control plane on a real PostgreSQL, and in the same run against a bare
// node:http server that reads and parses the same bodies. Two scenarios, each at 4 KB and 64 KB, 32 and 128 in
// flight: **first** — one heartbeat per freshly registered instance (new documents: the common case after a rollout
// or a fleet restart; registration untimed), and **steady** — the same instances again and again with unchanged
// documents. Prints req/s, p50/p99, the control plane's and PostgreSQL's CPU per heartbeat (from /proc), WAL bytes
// per heartbeat (pg_stat_wal) and the ratio to the bare server; checks that every acknowledged first heartbeat is
// stored. Not part of `make test`: run `make bench`.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePort, startTestPostgres, waitFor } from '@agentspec/e2e';
import { heartbeatBody } from './bodies.js';
import { runLoad, type LoadResult } from './load.js';
import { parentOf, processCpuMs, treeCpuMs } from './usage.js';
import pg from 'pg';

const root = resolve(import.meta.dirname, '..', '..');
const instances = Number(process.env['BENCH_INSTANCES'] ?? 50);
const fresh4k = Number(process.env['BENCH_FRESH_4K'] ?? 4000);
const fresh64k = Number(process.env['BENCH_FRESH_64K'] ?? 1500);
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

// pg_stat_statements: where PostgreSQL's time goes, printed at the end.
const postgres = await startTestPostgres({
  flags: ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track_planning=on'],
});
try {
  const databaseUrl = await postgres.createDatabase('bench');
  const controlPlane = await start(join(root, 'control-plane', 'dist', 'bin', 'control-plane.js'), {
    DATABASE_URL: databaseUrl,
    JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123456789',
    AGENTSPEC_ADMIN_KEY: adminKey,
    AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS: '0',
    LOG_LEVEL: 'warn',
  });
  const baseline = await start(join(root, 'bench', 'dist', 'baseline-server.js'), {});
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query('create extension if not exists pg_stat_statements');
  // The postmaster: the parent of any backend (its own and reaped children's CPU are PostgreSQL's).
  const backend = (await db.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  const postmaster = parentOf(backend);
  const walBytes = async () =>
    Number((await db.query<{ wal_bytes: string }>('select wal_bytes from pg_stat_wal')).rows[0]!.wal_bytes);

  let registered = 0;
  /** Registers `count` new instances (untimed) and returns their tokens. */
  const registerInstances = async (count: number): Promise<string[]> => {
    const tokens = new Array<string>(count);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < count; i = next++) {
          const n = registered + i;
          const res = await fetch(`${controlPlane.url}/api/v1/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-admin-key': adminKey },
            body: JSON.stringify({
              agentName: `bench-${n % 100}`,
              namespace: 'bench',
              instanceId: `pod-${n}`,
              runtime: 'k8s',
            }),
          });
          tokens[i] = ((await res.json()) as { apiKey: string }).apiKey;
        }
      }),
    );
    registered += count;
    return tokens;
  };
  const requestsOf = (tokens: string[], body: string) =>
    tokens.map((token) => ({
      body,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    }));

  /** One measured run: the load, and the CPU and WAL it cost per acknowledged heartbeat. */
  const measure = async (run: () => Promise<LoadResult>) => {
    const [cpu0, pg0, wal0] = [processCpuMs(controlPlane.child.pid!), treeCpuMs(postmaster), await walBytes()];
    const result = await run();
    const [cpu1, pg1, wal1] = [processCpuMs(controlPlane.child.pid!), treeCpuMs(postmaster), await walBytes()];
    const acked = result.statuses[204] ?? 0;
    return {
      result,
      acked,
      serverMs: (cpu1 - cpu0) / acked,
      postgresMs: (pg1 - pg0) / acked,
      walBytes: (wal1 - wal0) / acked,
    };
  };
  const stored = async (instanceIds: string[]) =>
    Number(
      (
        await db.query<{ n: string }>(
          'select count(*) as n from instances where instance_id = any($1) and last_heartbeat_at is not null',
          [instanceIds],
        )
      ).rows[0]!.n,
    );

  console.log(
    `bench/heartbeat: first heartbeats (${fresh4k} fresh instances at 4 KB, ${fresh64k} at 64 KB) and steady ones ` +
      `(${instances} instances, ${durationMs / 1000} s), 32 and 128 in flight, PostgreSQL 17, Node ${process.version}`,
  );
  console.log(
    `${'run'.padEnd(30)} ${'req/s'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'× bare'.padStart(7)} ` +
      `${'server'.padStart(8)} ${'postgres'.padStart(9)} ${'WAL/hb'.padStart(9)}   statuses`,
  );
  const steadyTokens = await registerInstances(instances);
  for (const size of [4 * 1024, 64 * 1024 - 512]) {
    const kb = `${Math.round(size / 1024)} KB`;
    const body = heartbeatBody(size, 95);
    // Steady: documents stored once, then unchanged.
    await runLoad({
      url: `${controlPlane.url}/api/v1/heartbeat`,
      requests: requestsOf(steadyTokens, body),
      concurrency: 8,
      durationMs: 0,
      once: true,
    });
    for (const inFlight of [32, 128]) {
      const base = await runLoad({
        url: `${baseline.url}/`,
        requests: requestsOf(steadyTokens, body),
        concurrency: inFlight,
        durationMs,
      });
      const firstTokens = await registerInstances(size > 8 * 1024 ? fresh64k : fresh4k);
      const firstIds = Array.from(
        { length: firstTokens.length },
        (_, i) => `pod-${registered - firstTokens.length + i}`,
      );
      // Statistics that know the fleet registered, as autovacuum's ANALYZE would have them a minute later: the
      // statements run on plans cached per connection (generic plans), made for the table's size when planned.
      await db.query('analyze');
      const first = await measure(() =>
        runLoad({
          url: `${controlPlane.url}/api/v1/heartbeat`,
          requests: requestsOf(firstTokens, body),
          concurrency: inFlight,
          durationMs: 0,
          once: true,
        }),
      );
      const steady = await measure(() =>
        runLoad({
          url: `${controlPlane.url}/api/v1/heartbeat`,
          requests: requestsOf(steadyTokens, body),
          concurrency: inFlight,
          durationMs,
        }),
      );
      console.log(row(`bare server, ${kb}, ${inFlight} in flight`, base));
      for (const [name, m] of [
        ['first', first],
        ['steady', steady],
      ] as const) {
        console.log(
          `${`${name}, ${kb}, ${inFlight} in flight`.padEnd(30)} ${m.result.perSecond.toFixed(0).padStart(7)} ` +
            `${m.result.p50ms.toFixed(1).padStart(8)} ${m.result.p99ms.toFixed(1).padStart(8)} ` +
            `${(m.result.perSecond / base.perSecond).toFixed(3).padStart(7)} ${`${m.serverMs.toFixed(2)} ms`.padStart(8)} ` +
            `${`${m.postgresMs.toFixed(2)} ms`.padStart(9)} ${`${(m.walBytes / 1024).toFixed(1)} KiB`.padStart(9)}   ${JSON.stringify(m.result.statuses)}`,
        );
      }
      const kept = await stored(firstIds);
      if (kept !== first.acked) throw new Error(`${first.acked} first heartbeats acknowledged, ${kept} stored`);
    }
  }
  console.log('every acknowledged first heartbeat is stored');
  const top = await db.query<{ calls: string; ms: number; plan: number; query: string }>(
    `select calls, total_exec_time as ms, total_plan_time as plan, regexp_replace(query, '\\s+', ' ', 'g') as query
     from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
     order by total_exec_time desc limit 8`,
  );
  console.log('\nPostgreSQL time by statement (pg_stat_statements, the whole run: executing, planning):');
  for (const t of top.rows) {
    console.log(
      `${t.ms.toFixed(0).padStart(8)} ms ${t.plan.toFixed(0).padStart(6)} ms ${t.calls.padStart(7)} calls  ${t.query.slice(0, 100)}`,
    );
  }
  // Row updates that stayed on their page and wrote no index entry (HOT), per table the heartbeat path writes.
  const hot = await db.query<{ relname: string; upd: string; hot: string }>(
    `select relname, n_tup_upd as upd, n_tup_hot_upd as hot from pg_stat_user_tables
     where relname in ('instances', 'agents') order by relname`,
  );
  for (const t of hot.rows) {
    const share = Number(t.upd) > 0 ? ((100 * Number(t.hot)) / Number(t.upd)).toFixed(0) : '-';
    console.log(`${t.relname}: ${t.upd} row updates, ${share} % of them HOT (no index written)`);
  }
  await db.end();
} finally {
  for (const child of children) child.kill('SIGTERM');
  await postgres.stop();
}
