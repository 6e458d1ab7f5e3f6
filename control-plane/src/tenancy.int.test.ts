// Namespace-scoped registration keys (ADR 0006): a namespace's key registers and heartbeats that namespace's
// instances only; every read, delete, event stream and connection query needs the admin key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scopedRegistrationKey } from '@agentspec/sdk';
import { testDatabase } from '@agentspec/e2e/vitest';
import {
  ADMIN_KEY,
  heartbeat,
  post,
  register,
  startTestControlPlane,
  type TestControlPlane,
} from '../tests/support.js';

const teamA = scopedRegistrationKey(ADMIN_KEY, 'team-a');

describe('namespace-scoped registration keys', () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane(await testDatabase());
  });
  afterAll(async () => cp?.close());

  const registerWith = (key: string, body: Record<string, unknown>) =>
    post(`${cp.url}/api/v1/register`, { runtime: 'k8s', ...body }, { 'x-admin-key': key });

  it('registers and heartbeats instances of its own namespace (its namespace by default)', async () => {
    const named = await registerWith(teamA, { agentName: 'coach', namespace: 'team-a', instanceId: 'pod-1' });
    expect(named.status).toBe(201);
    const implicit = await registerWith(teamA, { agentName: 'coach', instanceId: 'pod-2' });
    expect(implicit.status).toBe(201);
    const { apiKey } = (await implicit.json()) as { apiKey: string };
    expect((await heartbeat(cp.url, apiKey)).status).toBe(204);
    const listed = await fetch(`${cp.url}/api/v1/namespaces/team-a/agents/coach`, {
      headers: { 'x-admin-key': ADMIN_KEY },
    });
    expect(
      ((await listed.json()) as { instances: { instanceId: string }[] }).instances.map((i) => i.instanceId),
    ).toEqual(['pod-1', 'pod-2']);
  });

  it('is refused (403, naming the namespace) for another namespace, and cannot touch its instances', async () => {
    const other = await register(cp.url, {
      agentName: 'coach',
      namespace: 'team-b',
      instanceId: 'pod-1',
      runtime: 'k8s',
    });
    const refused = await registerWith(teamA, { agentName: 'coach', namespace: 'team-b', instanceId: 'pod-1' });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      field: 'namespace',
      message: 'namespace: this key registers instances of namespace team-a only',
    });
    // team-b's instance pod-1 keeps its token: the same instance id in team-a is another instance by construction.
    expect((await heartbeat(cp.url, other.apiKey)).status).toBe(204);
  });

  it('is refused for every read, delete, event stream and connection query', async () => {
    const headers = { 'x-admin-key': teamA };
    const gets = [
      '/api/v1/agents',
      '/api/v1/namespaces/team-a/agents',
      '/api/v1/namespaces/-/agents',
      '/api/v1/namespaces/team-a/agents/coach',
      '/api/v1/namespaces/team-a/agents/coach/health',
      '/api/v1/namespaces/team-a/agents/coach/gap',
      '/api/v1/namespaces/team-a/agents/coach/proof',
      '/api/v1/namespaces/team-a/agents/coach/history',
      '/api/v1/agents/coach/health',
      '/api/v1/events',
    ];
    for (const path of gets) {
      const res = await fetch(`${cp.url}${path}`, { headers });
      expect([path, res.status]).toEqual([path, 403]);
      expect(((await res.json()) as { message: string }).message).toContain('need the admin key');
    }
    const del = await fetch(`${cp.url}/api/v1/namespaces/team-a/agents/coach`, { method: 'DELETE', headers });
    expect(del.status).toBe(403);
    for (const path of ['/api/v1/agents/get_connection', '/api/v1/agents/get_connection_stats']) {
      expect((await post(`${cp.url}${path}`, { instance_id: 'pod-1' }, headers)).status).toBe(403);
    }
    const audit = cp.logs.join('');
    expect(audit).toContain('"audit":"out-of-scope"');
    expect(audit).not.toContain(teamA);
  });

  it('refuses a key that is not derived from this admin key', async () => {
    const forged = [
      scopedRegistrationKey('another-admin-key', 'team-a'),
      `${teamA.slice(0, -2)}xx`,
      teamA.replace('team-a', 'team-b'),
      'agentspec-ns.Team_A.abc',
    ];
    for (const key of forged) {
      const res = await registerWith(key, { agentName: 'coach', namespace: 'team-a' });
      expect([key.slice(0, 20), res.status]).toEqual([key.slice(0, 20), 403]);
    }
  });
});
