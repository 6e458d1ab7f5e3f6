// Faults on real processes: the control plane SIGKILLed and restarted under many heartbeating instances. No
// acknowledged heartbeat is lost, every instance's latest state is stored soon after recovery, and the SDK's
// jittered retries keep the reconnect peak near the steady rate. `make soak` runs it with 1,000 instances.
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sendWithRetry } from '@agentspec/sdk';
import { freePort, recordFigures, startControlPlaneProcess, waitFor, type ControlPlaneProcess } from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';

const INSTANCES = Number(process.env['FAULT_INSTANCES'] ?? 200);
const INTERVAL_MS = 2_000;

interface Instance {
  id: string;
  token: string;
  seq: number;
  /** The newest sequence number the control plane acknowledged (204). */
  acked: number;
  /** When the first 204 after the restart arrived. */
  recoveredAt?: number;
}

describe(`control plane SIGKILLed under ${INSTANCES} heartbeating instances`, () => {
  let cp: ControlPlaneProcess | undefined;
  afterAll(() => cp?.stop());

  it('loses no acknowledged heartbeat and recovers every instance with a bounded reconnect peak', async () => {
    const databaseUrl = await testDatabase();
    const port = await freePort();
    const start = () =>
      startControlPlaneProcess({ databaseUrl, port, adminKey: 'fault-admin-key', env: { LOG_LEVEL: 'error' } });
    cp = await start();
    const url = cp.url;
    const instances: Instance[] = [];
    for (let i = 0; i < INSTANCES; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, INSTANCES - i) }, async (_, j) => {
          const res = await fetch(`${url}/api/v1/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-admin-key': 'fault-admin-key' },
            body: JSON.stringify({ agentName: 'fleet', namespace: 'faults', instanceId: `i-${i + j}`, runtime: 'k8s' }),
          });
          return { id: `i-${i + j}`, token: ((await res.json()) as { apiKey: string }).apiKey, seq: 0, acked: 0 };
        }),
      );
      instances.push(...batch);
    }

    // Requests that reached a listening control plane, in 250 ms buckets; rates are counted per interval (a sliding
    // window of one interval), the natural unit: in the steady state each instance sends once per interval.
    const BUCKET_MS = 250;
    const arrivals = new Map<number, number>();
    const bucket = () => Math.floor(Date.now() / BUCKET_MS);
    const perInterval = (from: number): number => {
      let sum = 0;
      for (let b = from; b < from + INTERVAL_MS / BUCKET_MS; b++) sum += arrivals.get(b) ?? 0;
      return sum;
    };
    let restartedAt = Infinity;
    let running = true;
    const loop = async (instance: Instance): Promise<void> => {
      await new Promise((r) => setTimeout(r, Math.random() * INTERVAL_MS)); // instances start spread over an interval
      while (running) {
        const seq = ++instance.seq;
        const started = Date.now();
        try {
          const response = await sendWithRetry(
            async () => {
              const res = await fetch(`${url}/api/v1/heartbeat`, {
                method: 'POST',
                headers: { 'content-type': 'application/json', authorization: `Bearer ${instance.token}` },
                body: JSON.stringify({ health: { status: 'healthy', seq }, gap: { score: 90 } }),
              });
              arrivals.set(bucket(), (arrivals.get(bucket()) ?? 0) + 1);
              return res;
            },
            { maxMs: INTERVAL_MS },
          ); // as push mode: never wait longer than an interval between tries
          if (response.status === 204) {
            instance.acked = seq;
            if (instance.recoveredAt === undefined && Date.now() > restartedAt) instance.recoveredAt = Date.now();
          }
          await response.body?.cancel();
        } catch {
          // gave up after the SDK's attempts: the next tick tries again
        }
        await new Promise((r) => setTimeout(r, Math.max(0, INTERVAL_MS - (Date.now() - started))));
      }
    };
    const loops = instances.map(loop);

    await waitFor('every instance to be acknowledged once', async () => instances.every((i) => i.acked > 0), {
      timeoutMs: 60_000,
    });
    const steadyFrom = bucket();
    await waitFor('two more acknowledgements from every instance', async () => instances.every((i) => i.acked >= 3), {
      timeoutMs: 60_000,
    });
    const steadyTo = bucket();
    const steadyWindows = Array.from({ length: Math.max(1, steadyTo - steadyFrom - INTERVAL_MS / BUCKET_MS) }, (_, i) =>
      perInterval(steadyFrom + i),
    );
    const steadyRate = steadyWindows.reduce((a, b) => a + b, 0) / steadyWindows.length;

    const ackedBeforeKill = new Map(instances.map((i) => [i.id, i.acked]));
    await cp.process.kill();
    cp = await start();
    restartedAt = Date.now();
    await waitFor('every instance acknowledged after the restart', async () => instances.every((i) => i.recoveredAt), {
      timeoutMs: 120_000,
    });
    const recoveredBy = Math.max(...instances.map((i) => i.recoveredAt! - restartedAt));
    running = false;
    await Promise.all(loops);

    // No acknowledged heartbeat lost: the stored state of every instance is at least its last acknowledged one.
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const stored = new Map(
      (
        await client.query<{ instance_id: string; seq: string }>(
          `select instance_id, health->>'seq' as seq from instances`,
        )
      ).rows.map((r) => [r.instance_id, Number(r.seq)]),
    );
    await client.end();
    const lost = instances.filter((i) => (stored.get(i.id) ?? 0) < i.acked).length;
    const firstAfter = Math.ceil(restartedAt / BUCKET_MS);
    const lastBucket = Math.max(...arrivals.keys());
    const peak = Math.max(
      ...Array.from({ length: Math.max(1, lastBucket - firstAfter) }, (_, i) => perInterval(firstAfter + i)),
    );
    recordFigures('faults', {
      suite: 'control plane SIGKILLed and restarted under heartbeating instances',
      cases: `${INSTANCES} instances`,
      'acknowledged lost': lost,
      'steady req/interval': Math.round(steadyRate),
      'reconnect peak req/interval': peak,
      'peak/steady': (peak / steadyRate).toFixed(2),
      'all recovered after (ms)': recoveredBy,
    });
    expect(lost).toBe(0);
    expect(instances.every((i) => i.acked > (ackedBeforeKill.get(i.id) ?? 0))).toBe(true);
    expect(peak).toBeLessThanOrEqual(2 * steadyRate);
    // The retry delay is capped at one interval, so each instance is back within about one interval of recovery
    // (three allow for a loaded machine).
    expect(recoveredBy).toBeLessThanOrEqual(3 * INTERVAL_MS);
  }, 300_000);
});
