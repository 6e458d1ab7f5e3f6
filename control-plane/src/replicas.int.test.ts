// Two control-plane processes on one PostgreSQL: events fan out across replicas (LISTEN/NOTIFY), streams resume by
// id, and the reaper moves to the surviving replica when the one holding its lock is killed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlaneProcess, waitFor, type ControlPlaneProcess } from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';
import { collectEvents, heartbeat, register } from '../tests/support.js';

const ADMIN_KEY = 'test-admin-key-5e1f';

async function isReaperLeader(replica: ControlPlaneProcess): Promise<boolean> {
  const text = await (await fetch(`${replica.url}/metrics`)).text();
  return /^agentspec_reaper_leader 1$/m.test(text);
}

describe('two control-plane replicas on one PostgreSQL', () => {
  let a: ControlPlaneProcess;
  let b: ControlPlaneProcess;
  beforeAll(async () => {
    const databaseUrl = await testDatabase();
    const env = { AGENTSPEC_REAPER_INTERVAL_SECONDS: '1', JWT_SECRET: 'replicas-jwt-secret-0123456789abcdef012345' };
    [a, b] = await Promise.all([
      startControlPlaneProcess({ databaseUrl, adminKey: ADMIN_KEY, env }),
      startControlPlaneProcess({ databaseUrl, adminKey: ADMIN_KEY, env }),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('shows a heartbeat taken by A on B’s stream, and a resumed stream on B misses nothing', async () => {
    const onB = collectEvents(b.url, { namespace: 'fan' });
    await onB.opened;
    const reg = await register(a.url, { agentName: 'fan', namespace: 'fan', instanceId: 'f-1', runtime: 'k8s' });
    expect((await heartbeat(a.url, reg.apiKey)).status).toBe(204);
    await waitFor('A’s heartbeat on B', async () => onB.events.some((e) => e.type === 'agent.heartbeat'));
    await onB.close();
    const last = onB.events.at(-1)!.id;

    // While nobody listens, A registers two more instances; B's resumed stream gets exactly those, then live ones.
    await register(a.url, { agentName: 'fan', namespace: 'fan', instanceId: 'f-2', runtime: 'k8s' });
    await register(a.url, { agentName: 'fan', namespace: 'fan', instanceId: 'f-3', runtime: 'k8s' });
    const resumed = collectEvents(b.url, { namespace: 'fan', lastEventId: last });
    await resumed.opened;
    await register(a.url, { agentName: 'fan', namespace: 'fan', instanceId: 'f-4', runtime: 'k8s' });
    await waitFor('f-4 on the resumed stream', async () => resumed.events.some((e) => e['instanceId'] === 'f-4'));
    await resumed.close();
    expect(resumed.events.filter((e) => e.type === 'agent.registered').map((e) => e['instanceId'])).toEqual([
      'f-2',
      'f-3',
      'f-4',
    ]);
  });

  it('hands reaping to the other replica when the one holding the lock is killed', async () => {
    const leader = await waitFor('a reaper leader', async () =>
      (await isReaperLeader(a)) ? a : (await isReaperLeader(b)) ? b : undefined,
    );
    const survivor = leader === a ? b : a;
    expect(await isReaperLeader(survivor)).toBe(false);
    const stream = collectEvents(survivor.url, { namespace: 'reap' });
    await stream.opened;
    await leader.process.kill();
    await waitFor('the survivor to take the reaper lock', () => isReaperLeader(survivor), { timeoutMs: 60_000 });

    // The survivor reaps: a silent instance (1 s interval) is marked offline and announced.
    const reg = await register(survivor.url, {
      agentName: 'reaped',
      namespace: 'reap',
      instanceId: 'gone',
      runtime: 'k8s',
      intervalSeconds: 1,
    });
    expect((await heartbeat(survivor.url, reg.apiKey)).status).toBe(204);
    await waitFor('agent.offline from the survivor', async () =>
      stream.events.some((e) => e.type === 'agent.offline' && e['instanceId'] === 'gone'),
    );
    await stream.close();
  });
});
