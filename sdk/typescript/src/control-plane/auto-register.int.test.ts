// Auto-registration against a stand-in of the control plane's documented API (register, heartbeat), until the
// control-plane issue lands and these tests move to the real one.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '@agentspec/e2e';
import { AgentSpecReporter } from '../health/reporter.js';
import { parseManifest } from '../manifest/load.js';

interface Call {
  path: string;
  adminKey?: string;
  authorization?: string;
  body: Record<string, unknown>;
}

let server: Server;
let baseUrl = '';
const calls: Call[] = [];
let tokens = 0;
let rejectNextHeartbeat = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
      calls.push({
        path: req.url ?? '',
        adminKey: req.headers['x-admin-key'] as string,
        authorization: req.headers.authorization,
        body,
      });
      if (req.url === '/api/v1/register') {
        if (req.headers['x-admin-key'] !== 'admin-key')
          return void res.writeHead(403).end('{"error":"Forbidden","message":"wrong admin key"}');
        tokens++;
        res
          .writeHead(201, { 'content-type': 'application/json' })
          .end(
            JSON.stringify({
              agentId: 'a1',
              instanceId: body['instanceId'],
              apiKey: `token-${tokens}`,
              expiresAt: new Date(Date.now() + 3600_000).toISOString(),
              heartbeatIntervalSeconds: 0.05,
            }),
          );
      } else if (req.url === '/api/v1/heartbeat') {
        if (rejectNextHeartbeat) {
          rejectNextHeartbeat = false;
          return void res.writeHead(401).end('{"error":"Unauthorized","message":"token revoked"}');
        }
        res.writeHead(204).end();
      } else res.writeHead(404).end();
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${port}`;
});
afterAll(() => void server.close());

const { manifest } = parseManifest({
  apiVersion: 'agentspec.io/v1',
  kind: 'AgentSpec',
  metadata: { name: 'manifest-name', version: '1.0.0', description: 'd' },
  spec: { model: { provider: 'local', id: 'tiny' }, prompts: { system: 's' } },
});

describe('auto-registration inside a pod', () => {
  it('registers with the injected variables, heartbeats, and registers again after a 401', async () => {
    const env = {
      AGENTSPEC_CONTROL_PLANE_URL: baseUrl,
      AGENTSPEC_ADMIN_KEY: 'admin-key',
      AGENTSPEC_AGENT_NAME: 'coach',
      AGENTSPEC_NAMESPACE: 'team-a',
      AGENTSPEC_INSTANCE_ID: 'coach-abc-123',
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
    };
    const reporter = new AgentSpecReporter({ manifest, env, refreshIntervalMs: 60_000 }).start();
    try {
      await waitFor('two heartbeats', async () => calls.filter((c) => c.path === '/api/v1/heartbeat').length >= 2, {
        timeoutMs: 5_000,
        intervalMs: 10,
      });
      const register = calls.find((c) => c.path === '/api/v1/register');
      expect(register?.adminKey).toBe('admin-key');
      expect(register?.body).toMatchObject({
        agentName: 'coach',
        namespace: 'team-a',
        instanceId: 'coach-abc-123',
        runtime: 'k8s',
      });
      const heartbeat = calls.find((c) => c.path === '/api/v1/heartbeat');
      expect(heartbeat?.authorization).toBe('Bearer token-1');
      expect(heartbeat?.body).toMatchObject({
        health: { agentName: 'manifest-name' },
        gap: { score: expect.any(Number) },
      });

      rejectNextHeartbeat = true;
      await waitFor(
        'a heartbeat with the new token',
        async () => calls.some((c) => c.authorization === 'Bearer token-2'),
        { timeoutMs: 10_000, intervalMs: 10 },
      );
      expect(reporter.registration?.status.registrations).toBe(2);
    } finally {
      reporter.stop();
    }
  });

  it('does nothing when the sidecar registers for the pod', async () => {
    const before = calls.length;
    const reporter = new AgentSpecReporter({
      manifest,
      env: { AGENTSPEC_CONTROL_PLANE_URL: baseUrl, AGENTSPEC_REGISTRAR: 'sidecar' },
    }).start();
    await new Promise((r) => setTimeout(r, 100));
    reporter.stop();
    expect(reporter.registration).toBeUndefined();
    expect(calls.length).toBe(before);
  });

  it('keeps retrying a refused registration without leaking the admin key', async () => {
    const logs: string[] = [];
    const { AutoRegistration } = await import('./auto-register.js');
    const reporter = new AgentSpecReporter({ manifest, env: {} });
    const registration = new AutoRegistration({
      config: {
        controlPlaneUrl: baseUrl,
        adminKey: 'wrong-admin-key',
        agentName: 'x',
        namespace: undefined,
        instanceId: 'i',
        runtime: 'local',
      },
      reporter,
      backoff: { baseMs: 10, maxMs: 20 },
      log: (m) => void logs.push(m),
    }).start();
    await waitFor('two refused attempts', async () => logs.length >= 2, { timeoutMs: 5_000, intervalMs: 5 });
    registration.stop();
    expect(registration.status).toMatchObject({ registered: false, registrations: 0 });
    expect(logs[0]).toContain('control plane answered 403: wrong admin key');
    expect(logs.join('\n')).not.toContain('wrong-admin-key');
  });
});
