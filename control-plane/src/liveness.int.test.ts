// Fleet truth over time on PostgreSQL: liveness, agent figures from live instances, the reaper, events, connection
// endpoints, token refresh and upstream's key rotation.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';
import { reapOnce } from './reaper.js';
import {
  ADMIN_KEY,
  adminGet,
  collectEvents,
  heartbeat,
  post,
  register,
  startTestControlPlane,
  type TestControlPlane,
} from '../tests/support.js';

const admin = { 'x-admin-key': ADMIN_KEY };
const summaryOf = async (cp: TestControlPlane, namespace: string, name: string) =>
  (
    (await adminGet(cp.url, `/api/v1/namespaces/${namespace}/agents?name=${name}`)).body['items'] as Record<
      string,
      unknown
    >[]
  )[0];

describe('fleet truth over time (PostgreSQL)', () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    // The reaper is driven by hand here (reapOnce), so what it does is asserted step by step.
    cp = await startTestControlPlane(await testDatabase(), { AGENTSPEC_REAPER_INTERVAL_SECONDS: '3600' });
  });
  afterAll(async () => cp?.close());

  it('after a rollout, the agent is its live instance: offline old pod, then deleted after retention', async () => {
    const stream = collectEvents(cp.url, { namespace: 'roll' });
    await stream.opened;
    const old = await register(cp.url, {
      agentName: 'coach',
      namespace: 'roll',
      instanceId: 'coach-old',
      runtime: 'k8s',
      intervalSeconds: 1,
    });
    const bad = { health: { status: 'unhealthy', checks: [] }, gap: { score: 20 } };
    expect((await heartbeat(cp.url, old.apiKey, bad)).status).toBe(204);
    const fresh = await register(cp.url, {
      agentName: 'coach',
      namespace: 'roll',
      instanceId: 'coach-new',
      runtime: 'k8s',
    });
    expect((await heartbeat(cp.url, fresh.apiKey, { health: { status: 'healthy' }, gap: { score: 95 } })).status).toBe(
      204,
    );
    // coach-old says nothing more: after 3 of its 1 s intervals it is offline, and the agent is coach-new's.
    const live = await waitFor('coach-old offline', async () => {
      const s = await summaryOf(cp, 'roll', 'coach');
      return s?.['instances'] === 1 && s;
    });
    expect(live).toMatchObject({ phase: 'Healthy', score: 95, grade: 'A', instances: 1, instancesTotal: 2 });
    const detail = await adminGet(cp.url, '/api/v1/namespaces/roll/agents/coach');
    expect(
      (detail.body['instances'] as { instanceId: string; connectionStatus: string }[]).map((i) => [
        i.instanceId,
        i.connectionStatus,
      ]),
    ).toEqual([
      ['coach-new', 'healthy'],
      ['coach-old', 'offline'],
    ]);

    // The reaper marks it (agent.offline); with no retention left it deletes it, keeping the agent and its history.
    expect((await reapOnce(cp.context)).offline).toBeGreaterThanOrEqual(1);
    await waitFor('agent.offline', async () =>
      stream.events.some((e) => e.type === 'agent.offline' && e['instanceId'] === 'coach-old'),
    );
    const noRetention = { ...cp.context, config: { ...cp.context.config, instanceRetentionSeconds: 0 } };
    expect((await reapOnce(noRetention)).deleted).toBeGreaterThanOrEqual(1);
    expect(await summaryOf(cp, 'roll', 'coach')).toMatchObject({ instances: 1, instancesTotal: 1, grade: 'A' });
    const history = (await adminGet(cp.url, '/api/v1/namespaces/roll/agents/coach/history')).body['items'] as {
      instanceId: string;
    }[];
    expect(history.map((h) => h.instanceId)).toContain('coach-old');
    await stream.close();
    const types = stream.events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['agent.registered', 'agent.heartbeat', 'agent.phase_changed']));
    expect(stream.events.every((e, n) => n === 0 || e.id > stream.events[n - 1]!.id)).toBe(true);
  });

  it('with no live instance the agent is Offline with its last known grade and when it was seen', async () => {
    const only = await register(cp.url, {
      agentName: 'lonely',
      namespace: 'roll',
      instanceId: 'l-1',
      runtime: 'local',
      intervalSeconds: 1,
    });
    await heartbeat(cp.url, only.apiKey, { health: { status: 'degraded' }, gap: { score: 70 } });
    const offline = await waitFor('lonely offline', async () => {
      const s = await summaryOf(cp, 'roll', 'lonely');
      return s?.['phase'] === 'Offline' && s;
    });
    expect(offline).toMatchObject({ instances: 0, instancesTotal: 1, score: 70, grade: 'C' });
    expect(offline['lastSeen']).toEqual(expect.any(String));
    const noRetention = { ...cp.context, config: { ...cp.context.config, instanceRetentionSeconds: 0 } };
    await reapOnce(noRetention);
    // Every instance deleted: still Offline, grade from the history, lastSeen kept.
    expect(await summaryOf(cp, 'roll', 'lonely')).toMatchObject({
      phase: 'Offline',
      instancesTotal: 0,
      score: 70,
      grade: 'C',
      lastSeen: offline['lastSeen'],
    });
    const phases = (await adminGet(cp.url, '/api/v1/namespaces/roll/agents?phase=Offline')).body['items'] as {
      name: string;
    }[];
    expect(phases.map((a) => a.name)).toContain('lonely');
  });

  it('names the failing checks of the worst live instance and the violations of the lowest-scoring one', async () => {
    const reg = await register(cp.url, { agentName: 'why', namespace: 'roll', instanceId: 'w-1', runtime: 'local' });
    await heartbeat(cp.url, reg.apiKey, {
      health: {
        status: 'unhealthy',
        checks: [
          { id: 'env:OK', status: 'pass', severity: 'info' },
          { id: 'redis', status: 'warn', severity: 'warning', message: 'slow' },
          { id: 'model:anthropic', status: 'fail', severity: 'error', message: 'no key', remediation: 'set it' },
        ],
      },
      gap: {
        score: 30,
        violations: [
          { ruleId: 'OBS-1', severity: 'low', message: 'no tracing', remediation: 'add tracing' },
          { ruleId: 'SEC-1', severity: 'critical', message: 'no guardrails' },
        ],
      },
    });
    expect(await summaryOf(cp, 'roll', 'why')).toMatchObject({
      failingChecks: [
        { id: 'model:anthropic', status: 'fail', severity: 'error', message: 'no key', remediation: 'set it' },
        { id: 'redis', status: 'warn', message: 'slow' },
      ],
      violations: [
        { id: 'SEC-1', severity: 'critical', message: 'no guardrails' },
        { id: 'OBS-1', severity: 'low', message: 'no tracing', remediation: 'add tracing' },
      ],
    });
  });

  it('answers seed 003’s connection endpoints', async () => {
    const reg = await register(cp.url, { agentName: 'conn', namespace: 'c1', instanceId: 'conn-1', runtime: 'k8s' });
    const before = await post(`${cp.url}/api/v1/agents/get_connection`, { instance_id: 'conn-1' }, admin);
    expect(await before.json()).toMatchObject({
      instance_id: 'conn-1',
      agent_id: reg.agentId,
      agent_type: 'conn',
      namespace: 'c1',
      deployment_mode: 'connected',
      transport: 'callback',
      connection_status: 'online',
      last_heartbeat: null,
      heartbeat_interval_seconds: 30,
    });
    await heartbeat(cp.url, reg.apiKey, { health: { status: 'degraded' }, gap: { score: 80 } });
    const after = await post(
      `${cp.url}/api/v1/agents/get_connection`,
      { instance_id: 'conn-1', namespace: 'c1' },
      admin,
    );
    expect(await after.json()).toMatchObject({ connection_status: 'degraded', phase: 'Degraded', score: 80 });
    const stats = await post(`${cp.url}/api/v1/agents/get_connection_stats`, { namespace: 'c1' }, admin);
    expect(await stats.json()).toEqual({
      total: 1,
      by_deployment_mode: { connected: 1, hosted: 0 },
      by_connection_status: { online: 0, healthy: 0, degraded: 1, offline: 0, unknown: 0 },
      by_transport: { callback: 1, ws: 0 },
    });
    const missing = await post(`${cp.url}/api/v1/agents/get_connection`, { instance_id: 'nope' }, admin);
    expect(missing.status).toBe(404);
    const bad = await post(`${cp.url}/api/v1/agents/get_connection`, { instance: 'conn-1' }, admin);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: expect.stringMatching(/instance/) });
    expect((await post(`${cp.url}/api/v1/agents/get_connection_stats`, {})).status).toBe(403);
  });

  it('swaps a token for a fresh one, revoking the old; of two refreshes with one token only one wins', async () => {
    const reg = await register(cp.url, { agentName: 'refresh', instanceId: 'r-1', runtime: 'local' });
    const refresh = (token: string) => post(`${cp.url}/api/v1/token/refresh`, {}, { authorization: `Bearer ${token}` });
    const [a, b] = await Promise.all([refresh(reg.apiKey), refresh(reg.apiKey)]);
    expect([a.status, b.status].sort()).toEqual([200, 401]);
    const fresh = (await (a.status === 200 ? a : b).json()) as { apiKey: string; instanceId: string };
    expect(fresh).toMatchObject({ instanceId: 'r-1', agentId: reg.agentId, heartbeatIntervalSeconds: 30 });
    expect((await heartbeat(cp.url, reg.apiKey)).status).toBe(401);
    expect((await heartbeat(cp.url, fresh.apiKey)).status).toBe(204);
    expect((await refresh('not-a-token')).status).toBe(401);
  });

  it('registering again without instanceId rotates the one key of the agent (upstream’s model)', async () => {
    const first = await register(cp.url, { agentName: 'upstream-style', runtime: 'bedrock' });
    const second = await register(cp.url, { agentName: 'upstream-style', runtime: 'bedrock' });
    expect(second.instanceId).toBe('upstream-style');
    expect((await heartbeat(cp.url, first.apiKey)).status).toBe(401);
    expect((await heartbeat(cp.url, second.apiKey)).status).toBe(204);
    expect(await summaryOf(cp, 'default', 'upstream-style')).toMatchObject({ instancesTotal: 1 });
  });

  it('resumes a stream from Last-Event-ID without missing or repeating an event, and filters by type', async () => {
    const first = collectEvents(cp.url, { namespace: 'resume' });
    await first.opened;
    const reg = await register(cp.url, { agentName: 'r', namespace: 'resume', instanceId: 'r-0', runtime: 'local' });
    await waitFor('the first event', async () => first.events.length > 0);
    await first.close();
    const seen = first.events.at(-1)!.id;
    // Missed while disconnected:
    for (let n = 1; n <= 3; n++) {
      await register(cp.url, { agentName: 'r', namespace: 'resume', instanceId: `r-${n}`, runtime: 'local' });
    }
    await cp.context.events.flushed();
    const second = collectEvents(cp.url, { namespace: 'resume', lastEventId: seen });
    await second.opened;
    await heartbeat(cp.url, reg.apiKey);
    await waitFor('the missed registrations and the new heartbeat', async () =>
      second.events.some((e) => e.type === 'agent.heartbeat'),
    );
    await second.close();
    const registered = second.events.filter((e) => e.type === 'agent.registered').map((e) => e['instanceId']);
    expect(registered).toEqual(['r-1', 'r-2', 'r-3']);
    expect(second.events.every((e) => e.id > seen)).toBe(true);
    expect(new Set(second.events.map((e) => e.id)).size).toBe(second.events.length);

    const typed = await fetch(`${cp.url}/api/v1/events?types=agent.deregistered,agent.nonsense`, { headers: admin });
    expect(typed.status).toBe(400);
    expect(await typed.json()).toMatchObject({ field: 'types', message: expect.stringContaining('agent.nonsense') });
    // An id from the future (a restored database): told to resync, then served what comes next.
    const future = collectEvents(cp.url, { namespace: 'resume', lastEventId: 999_999_999 });
    await future.opened;
    await heartbeat(cp.url, reg.apiKey, { health: { status: 'unhealthy' }, gap: { score: 10 } });
    await waitFor('the next event after a future id', async () => future.events.length > 0);
    await future.close();
    expect(future.resets).toBe(1);
    const badId = await fetch(`${cp.url}/api/v1/events`, { headers: { ...admin, 'last-event-id': 'yesterday' } });
    expect(badId.status).toBe(400);
    expect((await fetch(`${cp.url}/api/v1/events`)).status).toBe(403);
  });
});

describe('event stream limits', () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane(await testDatabase(), {
      AGENTSPEC_EVENTS_MAX_SUBSCRIBERS: '2',
      AGENTSPEC_EVENTS_KEEPALIVE_SECONDS: '1',
      AGENTSPEC_EVENT_RETENTION: '100',
    });
  });
  afterAll(async () => cp?.close());

  it('answers 503 past the subscriber cap, keeps idle streams alive, and resets a resume older than the table', async () => {
    const a = collectEvents(cp.url);
    const b = collectEvents(cp.url);
    await Promise.all([a.opened, b.opened]);
    const third = await fetch(`${cp.url}/api/v1/events`, { headers: admin });
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('10');
    await a.close();
    await b.close();
    await waitFor('the closed streams to leave', async () => cp.context.hub.subscribers === 0);

    const raw = await fetch(`${cp.url}/api/v1/events`, { headers: admin });
    const reader = raw.body!.getReader();
    let text = '';
    await waitFor('a keep-alive comment', async () => {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
      return text.includes(': keep-alive');
    });
    await reader.cancel();

    // 150 events with a retention of 100: a resume from the first one is told it missed some.
    for (let n = 0; n < 150; n++) {
      cp.context.events.append({ type: 'agent.heartbeat', namespace: 'bulk', name: 'b', instanceId: String(n) });
    }
    await cp.context.events.flushed();
    await reapOnce(cp.context);
    const resumed = collectEvents(cp.url, { lastEventId: 1 });
    await resumed.opened;
    await waitFor('the kept events', async () => resumed.events.some((e) => e['instanceId'] === '149'));
    await resumed.close();
    expect(resumed.resets).toBe(1);
    expect(resumed.events.length).toBeLessThanOrEqual(101);
  });

  it('drops a subscriber that does not read instead of buffering its events without bound', async () => {
    const { port } = new URL(cp.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET /api/v1/events HTTP/1.1\r\nhost: x\r\nx-admin-key: ${ADMIN_KEY}\r\n\r\n`);
    socket.pause(); // reads nothing from here on
    await waitFor('the stream to be open', async () => cp.context.hub.subscribers === 1);
    const padding = 'p'.repeat(1_000);
    // Far more than the 1 MiB allowance plus what the kernel's socket buffers take in.
    await waitFor(
      'the silent subscriber to be dropped',
      async () => {
        for (let n = 0; n < 2_000; n++) {
          cp.context.events.append({ type: 'agent.heartbeat', namespace: 'flood', name: 'f', padding });
        }
        await cp.context.events.flushed();
        return cp.context.hub.subscribers === 0;
      },
      { timeoutMs: 120_000, intervalMs: 10 },
    );
    expect(cp.logs.join('')).toContain('too slow: the client did not read its events');
    socket.destroy();
  });
});
