// The control plane's API on real databases: PostgreSQL (the run's server) and the embedded PGlite.
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';
import {
  ADMIN_KEY,
  JWT_SECRET,
  adminGet,
  collectEvents,
  heartbeat,
  post,
  register,
  startTestControlPlane,
  type TestControlPlane,
} from '../tests/support.js';

describe.each([
  ['PostgreSQL', () => testDatabase()],
  ['PGlite', async () => undefined],
])('control plane on %s', (_db, database) => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane(await database(), { AGENTSPEC_HISTORY_LIMIT: '4' });
  });
  afterAll(async () => cp?.close());

  it('runs the register → heartbeat → read → delete cycle', async () => {
    const reg = await register(cp.url, {
      agentName: 'coach',
      namespace: 'team-a',
      instanceId: 'coach-1',
      runtime: 'k8s',
      manifest: { kind: 'AgentSpec' },
    });
    expect(reg).toMatchObject({ instanceId: 'coach-1', heartbeatIntervalSeconds: 30 });
    expect(reg.apiKey.split('.')).toHaveLength(3);
    expect(Date.parse(reg.expiresAt) - Date.now()).toBeGreaterThan(86_000_000);

    const gap = { score: 82, grade: 'B', violations: [] };
    expect(
      (
        await heartbeat(cp.url, reg.apiKey, {
          health: { status: 'degraded', checks: [] },
          gap,
          proof: { signed: true },
        })
      ).status,
    ).toBe(204);

    const list = await adminGet(cp.url, '/api/v1/namespaces/team-a/agents');
    expect(list.body['items']).toEqual([
      expect.objectContaining({
        agentId: reg.agentId,
        namespace: 'team-a',
        name: 'coach',
        phase: 'Degraded',
        score: 82,
        grade: 'B',
        instances: 1,
        instancesTotal: 1,
      }),
    ]);
    const one = await adminGet(cp.url, '/api/v1/namespaces/team-a/agents/coach');
    expect(one.body['instances']).toEqual([
      expect.objectContaining({
        instanceId: 'coach-1',
        runtime: 'k8s',
        phase: 'Degraded',
        score: 82,
        status: 'degraded',
        connectionStatus: 'degraded',
        intervalSeconds: 30,
        transport: 'callback',
      }),
    ]);
    expect((await adminGet(cp.url, '/api/v1/namespaces/team-a/agents/coach/gap')).body).toMatchObject({
      instanceId: 'coach-1',
      gap,
    });
    expect((await adminGet(cp.url, '/api/v1/namespaces/team-a/agents/coach/health')).body).toMatchObject({
      health: { status: 'degraded' },
    });
    expect((await adminGet(cp.url, '/api/v1/namespaces/team-a/agents/coach/proof')).body).toMatchObject({
      proof: { signed: true },
    });
    expect((await adminGet(cp.url, '/api/v1/namespaces/team-a/agents/coach/history')).body['items']).toEqual([
      expect.objectContaining({ instanceId: 'coach-1', phase: 'Degraded', score: 82, grade: 'B' }),
    ]);

    const del = await fetch(`${cp.url}/api/v1/namespaces/team-a/agents/coach`, {
      method: 'DELETE',
      headers: { 'x-admin-key': ADMIN_KEY },
    });
    expect(del.status).toBe(204);
    const after = await heartbeat(cp.url, reg.apiKey);
    expect(after.status).toBe(401);
    expect(await after.json()).toEqual({ error: 'Unauthorized', message: 'token revoked: register again' });
    expect((await adminGet(cp.url, '/api/v1/namespaces/team-a/agents/coach')).status).toBe(404);
  });

  it('streams what happens as events (the event table works on this database too)', async () => {
    const stream = collectEvents(cp.url, { namespace: 'evented' });
    await stream.opened;
    const reg = await register(cp.url, { agentName: 'e', namespace: 'evented', instanceId: 'e-1', runtime: 'local' });
    await heartbeat(cp.url, reg.apiKey, { health: { status: 'degraded' }, gap: { score: 70 } });
    await waitFor('the phase change', async () => stream.events.some((e) => e.type === 'agent.phase_changed'));
    await stream.close();
    expect(stream.events.map((e) => e.type)).toEqual(['agent.registered', 'agent.heartbeat', 'agent.phase_changed']);
    expect(stream.events[2]).toMatchObject({ namespace: 'evented', name: 'e', from: 'Unknown', to: 'Degraded' });
  });

  it('keeps tokens per instance: re-registering one replica never revokes another', async () => {
    const a1 = await register(cp.url, {
      agentName: 'replicated',
      namespace: 'team-b',
      instanceId: 'pod-a',
      runtime: 'k8s',
    });
    const b = await register(cp.url, {
      agentName: 'replicated',
      namespace: 'team-b',
      instanceId: 'pod-b',
      runtime: 'k8s',
    });
    const a2 = await register(cp.url, {
      agentName: 'replicated',
      namespace: 'team-b',
      instanceId: 'pod-a',
      runtime: 'k8s',
    });
    expect(a2.agentId).toBe(a1.agentId);
    expect((await heartbeat(cp.url, a1.apiKey)).status).toBe(401);
    expect((await heartbeat(cp.url, a2.apiKey)).status).toBe(204);
    expect((await heartbeat(cp.url, b.apiKey)).status).toBe(204);
    expect((await adminGet(cp.url, '/api/v1/namespaces/team-b/agents/replicated')).body['instances']).toHaveLength(2);
  });

  it('accepts concurrent heartbeats of one instance when the interval allows them', async () => {
    const reg = await register(cp.url, { agentName: 'concurrent', instanceId: 'c', runtime: 'local' });
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () => heartbeat(cp.url, reg.apiKey).then((r) => r.status)),
    );
    expect(statuses).toEqual(Array(10).fill(204));
  });

  it('writes every heartbeat of a burst from many instances (coalesced into shared statements)', async () => {
    const regs = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        register(cp.url, { agentName: 'burst', namespace: 'burst', instanceId: `b-${i}`, runtime: 'local' }),
      ),
    );
    const statuses = await Promise.all(
      regs.map((reg, i) =>
        heartbeat(cp.url, reg.apiKey, { health: { status: 'healthy' }, gap: { score: 50 + i + 0.4 } }).then(
          (r) => r.status,
        ),
      ),
    );
    expect(statuses).toEqual(Array(40).fill(204));
    const agent = await adminGet(cp.url, '/api/v1/namespaces/burst/agents/burst');
    const scores = (agent.body['instances'] as { instanceId: string; score: number }[])
      .map((i) => [i.instanceId, i.score] as const)
      .sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }));
    expect(scores).toEqual(regs.map((_, i) => [`b-${i}`, 50 + i]));
  });

  it('keeps the newest AGENTSPEC_HISTORY_LIMIT history rows of an instance, written with its heartbeats', async () => {
    const reg = await register(cp.url, { agentName: 'moving', instanceId: 'i', runtime: 'local' });
    for (const score of [60, 61, 62, 63, 64, 65]) {
      const body = { health: { status: 'healthy' }, gap: { score } };
      expect((await heartbeat(cp.url, reg.apiKey, body)).status).toBe(204);
      const history = (await adminGet(cp.url, '/api/v1/namespaces/default/agents/moving/history')).body['items'] as {
        score: number;
      }[];
      // Written by the heartbeat's own statement: there the moment it is acknowledged, already trimmed.
      expect(history.map((h) => h.score)).toEqual([score, score - 1, score - 2, score - 3].filter((s) => s >= 60));
    }
  });

  it('stores documents only when they change and bounds nothing it should keep', async () => {
    const reg = await register(cp.url, { agentName: 'steady', instanceId: 'i', runtime: 'local' });
    const body = { health: { status: 'healthy' }, gap: { score: 95 } };
    for (let i = 0; i < 3; i++) expect((await heartbeat(cp.url, reg.apiKey, body)).status).toBe(204);
    const first = await adminGet(cp.url, '/api/v1/namespaces/default/agents/steady/gap');
    expect((await adminGet(cp.url, '/api/v1/namespaces/default/agents/steady/history')).body['items']).toHaveLength(1);
    expect((await heartbeat(cp.url, reg.apiKey, { ...body, gap: { score: 70 } })).status).toBe(204);
    const history = (await adminGet(cp.url, '/api/v1/namespaces/default/agents/steady/history')).body['items'] as {
      score: number;
    }[];
    expect(history.map((h) => h.score)).toEqual([70, 95]);
    const second = await adminGet(cp.url, '/api/v1/namespaces/default/agents/steady/gap');
    expect(second.body['updatedAt']).not.toBe(first.body['updatedAt']);
    expect(second.body['gap']).toEqual({ score: 70 });
  });

  it('accepts older clients: gap.overallScore and health status ready/unavailable', async () => {
    const reg = await register(cp.url, { agentName: 'legacy', namespace: 'old', instanceId: 'x', runtime: 'docker' });
    expect(
      (await heartbeat(cp.url, reg.apiKey, { health: { status: 'ready' }, gap: { overallScore: 64 } })).status,
    ).toBe(204);
    const agent = await adminGet(cp.url, '/api/v1/namespaces/old/agents/legacy');
    expect(agent.body).toMatchObject({ phase: 'Healthy', score: 64, grade: 'C' });
    expect(
      (await heartbeat(cp.url, reg.apiKey, { health: { status: 'unavailable' }, gap: { overallScore: 64 } })).status,
    ).toBe(204);
    expect((await adminGet(cp.url, '/api/v1/namespaces/old/agents/legacy')).body['phase']).toBe('Unhealthy');
  });

  it('answers GET /api/v1/agents/{name}/health|gap|proof by name when it is unique, 409 naming the namespaces when not', async () => {
    const one = await register(cp.url, {
      agentName: 'unique-name',
      namespace: 'n1',
      instanceId: 'a',
      runtime: 'local',
    });
    await heartbeat(cp.url, one.apiKey, { health: { status: 'healthy' }, gap: { score: 99 } });
    // Upstream's shapes: the report at the top level, gap with receivedAt, proof records (empty when none was sent).
    const gap = await adminGet(cp.url, '/api/v1/agents/unique-name/gap');
    expect(gap.body).toEqual({ score: 99, receivedAt: expect.stringMatching(/^\d{4}-/) });
    expect((await adminGet(cp.url, '/api/v1/agents/unique-name/health')).body).toEqual({ status: 'healthy' });
    expect((await adminGet(cp.url, '/api/v1/agents/unique-name/proof')).body).toEqual({
      records: [],
      receivedAt: gap.body['receivedAt'],
    });
    const upstreamList = (await adminGet(cp.url, '/api/v1/agents?namespace=n1')).body as unknown as unknown[];
    expect(upstreamList).toEqual([
      {
        agentId: one.agentId,
        agentName: 'unique-name',
        namespace: 'n1',
        runtime: 'local',
        phase: 'Healthy',
        grade: 'A',
        score: 99,
        lastSeen: expect.any(String),
      },
    ]);
    await register(cp.url, { agentName: 'twin', namespace: 'n2', instanceId: 'a', runtime: 'local' });
    await register(cp.url, { agentName: 'twin', namespace: 'n1', instanceId: 'a', runtime: 'local' });
    const ambiguous = await adminGet(cp.url, '/api/v1/agents/twin/health');
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.body['message']).toContain('exists in namespaces n1, n2');
    expect((await adminGet(cp.url, '/api/v1/agents/nobody/proof')).status).toBe(404);
    // Registered, no heartbeat yet: 404 as upstream.
    await register(cp.url, { agentName: 'silent-one', namespace: 'n1', runtime: 'local' });
    expect((await adminGet(cp.url, '/api/v1/agents/silent-one/proof')).status).toBe(404);
  });

  it('filters by namespace and phase and pages with a cursor', async () => {
    for (const name of ['p-a', 'p-b', 'p-c']) {
      const reg = await register(cp.url, { agentName: name, namespace: 'paging', instanceId: 'i', runtime: 'local' });
      await heartbeat(cp.url, reg.apiKey, {
        health: { status: name === 'p-b' ? 'unhealthy' : 'healthy' },
        gap: { score: 50 },
      });
    }
    const first = await adminGet(cp.url, '/api/v1/namespaces/paging/agents?limit=2');
    expect((first.body['items'] as { name: string }[]).map((a) => a.name)).toEqual(['p-a', 'p-b']);
    const second = await adminGet(
      cp.url,
      `/api/v1/namespaces/paging/agents?limit=2&cursor=${String(first.body['nextCursor'])}`,
    );
    expect((second.body['items'] as { name: string }[]).map((a) => a.name)).toEqual(['p-c']);
    expect(second.body['nextCursor']).toBeNull();
    const unhealthy = await adminGet(cp.url, '/api/v1/namespaces/paging/agents?phase=Unhealthy');
    expect((unhealthy.body['items'] as { name: string }[]).map((a) => a.name)).toEqual(['p-b']);
    const everywhere = await adminGet(cp.url, '/api/v1/namespaces/-/agents?name=p-c');
    expect((everywhere.body['items'] as { namespace: string }[]).map((a) => a.namespace)).toEqual(['paging']);
    expect((await adminGet(cp.url, '/api/v1/namespaces/-/agents?phase=Sleepy')).body).toMatchObject({
      error: 'InvalidQuery',
      field: 'phase',
    });
    expect((await adminGet(cp.url, '/api/v1/namespaces/-/agents/p-c')).body).toMatchObject({
      error: 'NotFound',
      message: expect.stringContaining('name the namespace of p-c'),
    });
    expect((await adminGet(cp.url, '/api/v1/namespaces/-/agents?cursor=garbage')).body).toMatchObject({
      error: 'InvalidQuery',
      field: 'cursor',
    });
  });
});

describe('control plane errors', () => {
  let cp: TestControlPlane;
  let token = '';
  beforeAll(async () => {
    cp = await startTestControlPlane(await testDatabase());
    token = (await register(cp.url, { agentName: 'target', instanceId: 't', runtime: 'local' })).apiKey;
  });
  afterAll(async () => cp?.close());

  it('403 for a missing or wrong admin key; 503 when none is configured', async () => {
    expect((await post(`${cp.url}/api/v1/register`, { agentName: 'x', runtime: 'local' })).status).toBe(403);
    const wrong = await post(
      `${cp.url}/api/v1/register`,
      { agentName: 'x', runtime: 'local' },
      { 'x-admin-key': 'nope' },
    );
    expect(wrong.status).toBe(403);
    expect((await fetch(`${cp.url}/api/v1/agents`)).status).toBe(403);
    const keyless = await startTestControlPlane(undefined, { AGENTSPEC_ADMIN_KEY: '' });
    try {
      const res = await post(
        `${keyless.url}/api/v1/register`,
        { agentName: 'x', runtime: 'local' },
        { 'x-admin-key': 'anything' },
      );
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'AdminKeyNotConfigured' });
    } finally {
      await keyless.close();
    }
  });

  it.each([
    [{ agentName: 'Bad_Name', runtime: 'local' }, 'agentName', 'agentName must be an RFC 1123 label'],
    [{ agentName: 'ok', runtime: 'mainframe' }, 'runtime', 'expected one of'],
    [{ agentName: 'ok', runtime: 'local', namespace: 'UPPER' }, 'namespace', 'namespace must be an RFC 1123 label'],
    [{ runtime: 'local' }, 'agentName', 'agentName: is required'],
  ])('400 naming the field for a bad registration %#', async (body, field, message) => {
    const res = await post(`${cp.url}/api/v1/register`, body, { 'x-admin-key': ADMIN_KEY });
    expect(res.status).toBe(400);
    const error = (await res.json()) as { error: string; field: string; message: string };
    expect(error).toMatchObject({ error: 'InvalidBody', field });
    expect(error.message).toContain(message);
  });

  it('401 for missing, malformed, expired, forged, alg:none and algorithm-swapped tokens', async () => {
    const key = new TextEncoder().encode(JWT_SECRET);
    const claims = { ins: 'x' };
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('a')
      .setJti('j')
      .setIssuer('agentspec-control-plane')
      .setIssuedAt(now - 100)
      .setExpirationTime(now - 10)
      .sign(key);
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('a')
      .setJti('j')
      .setIssuer('agentspec-control-plane')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-that-is-long-enough-000000'));
    const swapped = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('a')
      .setJti('j')
      .setIssuer('agentspec-control-plane')
      .setExpirationTime('1h')
      .sign(key);
    const none = new UnsecuredJWT(claims)
      .setSubject('a')
      .setJti('j')
      .setIssuer('agentspec-control-plane')
      .setExpirationTime('1h')
      .encode();
    const [header, payload] = token.split('.');
    const noneWithRealPayload = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    void header;
    for (const bad of [undefined, 'not-a-jwt', expired, forged, swapped, none, noneWithRealPayload]) {
      const res = await post(
        `${cp.url}/api/v1/heartbeat`,
        { health: {}, gap: {} },
        bad === undefined ? {} : { authorization: `Bearer ${bad}` },
      );
      expect(res.status, String(bad)).toBe(401);
    }
  });

  it('400 naming the field for malformed bodies, 413 over 64 KiB', async () => {
    const bad = await heartbeat(cp.url, token, { health: { status: 'healthy' }, gap: { score: 'high' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: 'InvalidBody',
      message: 'gap.score: expected number',
      field: 'gap.score',
    });
    const missing = await heartbeat(cp.url, token, { health: { status: 'healthy' } });
    expect(await missing.json()).toMatchObject({ field: 'gap', message: 'gap: is required' });
    const json = await post(`${cp.url}/api/v1/heartbeat`, '{"health": ', { authorization: `Bearer ${token}` });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: 'InvalidJson' });
    const huge = await heartbeat(cp.url, token, {
      health: { status: 'healthy', padding: 'x'.repeat(70 * 1024) },
      gap: { score: 1 },
    });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: 'PayloadTooLarge' });
  });

  it('429 with Retry-After when an instance reports faster than the minimum interval', async () => {
    const limited = await startTestControlPlane(await testDatabase(), {
      AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS: '30',
    });
    try {
      const reg = await register(limited.url, { agentName: 'eager', instanceId: 'e', runtime: 'local' });
      expect((await heartbeat(limited.url, reg.apiKey)).status).toBe(204);
      const second = await heartbeat(limited.url, reg.apiKey);
      expect(second.status).toBe(429);
      expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(29);
      expect(await second.json()).toMatchObject({ error: 'TooManyHeartbeats' });
      // A burst of one instance: exactly one is written, the others are judged against it.
      const other = await register(limited.url, { agentName: 'eager', instanceId: 'f', runtime: 'local' });
      const burst = await Promise.all(Array.from({ length: 8 }, () => heartbeat(limited.url, other.apiKey)));
      expect(burst.map((r) => r.status).sort()).toEqual([204, 429, 429, 429, 429, 429, 429, 429]);
    } finally {
      await limited.close();
    }
  });

  it('never writes the admin key, a token or the JWT secret to its logs', async () => {
    await register(cp.url, { agentName: 'logged', instanceId: 'l', runtime: 'local' });
    cp.context.logger.info(`a message that quotes ${token} and ${ADMIN_KEY} and ${JWT_SECRET}`);
    const logs = cp.logs.join('');
    expect(logs).toContain('instance registered');
    expect(logs).toContain('[REDACTED]');
    for (const secret of [token, ADMIN_KEY, JWT_SECRET]) expect(logs).not.toContain(secret);
  });

  it('serves /healthz, /readyz and /metrics', async () => {
    const reg = await register(cp.url, { agentName: 'measured', instanceId: 'm', runtime: 'local' });
    expect((await heartbeat(cp.url, reg.apiKey)).status).toBe(204);
    expect(await (await fetch(`${cp.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${cp.url}/readyz`)).json()).toEqual({ status: 'ready', database: 'postgres' });
    const metrics = await (await fetch(`${cp.url}/metrics`)).text();
    expect(metrics).toMatch(/agentspec_heartbeats_total\{result="unauthorized"\} \d+/);
    expect(metrics).toMatch(
      /agentspec_http_request_duration_seconds_bucket\{le="0.001",method="POST",route="\/api\/v1\/heartbeat",status="204"\}/,
    );
    expect(metrics).toContain('agentspec_db_pool_connections{state="total"}');
    expect(metrics).toContain('nodejs_eventloop_lag_seconds');
    const openapi = (await (await fetch(`${cp.url}/api/v1/openapi.json`)).json()) as { openapi: string; paths: object };
    expect(openapi.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.paths)).toContain('/api/v1/heartbeat');
  });
});
