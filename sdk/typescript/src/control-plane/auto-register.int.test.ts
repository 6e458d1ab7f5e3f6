// Auto-registration against a stand-in of the control plane's documented API (register, heartbeat, token refresh):
// answers the real control plane never gives on demand (a 401 now, a token due for refresh at once).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback, waitFor } from '@agentspec/e2e';
import { AgentSpecReporter } from '../health/reporter.js';
import { parseManifest } from '../manifest/load.js';
import { startPushMode, stopPushMode } from '../push/push-mode.js';
import { AutoRegistration } from './auto-register.js';

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
        res.writeHead(201, { 'content-type': 'application/json' }).end(
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
  baseUrl = await listenOnLoopback(server);
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
      manifest: reporter.manifest,
      report: () => reporter.getReport(),
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

describe('agentspec register, then push mode (a remote agent outside the cluster)', () => {
  it('writes .env.agentspec that push mode uses, and never prints the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentspec-register-'));
    const bin = resolve(import.meta.dirname, '..', '..', 'dist', 'bin', 'agentspec.js');
    const example = resolve(import.meta.dirname, '..', '..', '..', '..', 'examples', 'minimal', 'agent.yaml');
    const stdout = await new Promise<string>((resolvePromise, reject) =>
      execFile(
        process.execPath,
        [bin, 'register', example, '--control-plane', baseUrl, '--runtime', 'docker', '--instance-id', 'laptop-1'],
        { cwd: dir, env: { ...process.env, AGENTSPEC_ADMIN_KEY: 'admin-key' } },
        (err, out, errOut) => (err ? reject(new Error(errOut)) : resolvePromise(out)),
      ),
    );
    expect(stdout.trim()).toBe(
      'registered hello-agent as instance laptop-1; wrote AGENTSPEC_URL and AGENTSPEC_KEY to .env.agentspec',
    );
    const envFile = join(dir, '.env.agentspec');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const vars = Object.fromEntries(
      readFileSync(envFile, 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(vars['AGENTSPEC_URL']).toBe(`${baseUrl}/api/v1/heartbeat`);
    expect(vars['AGENTSPEC_KEY']).toMatch(/^token-\d+$/);
    expect(stdout).not.toContain(vars['AGENTSPEC_KEY']);
    expect(calls.at(-1)?.body).toMatchObject({ agentName: 'hello-agent', runtime: 'docker', instanceId: 'laptop-1' });

    const before = calls.length;
    startPushMode({ manifest, url: vars['AGENTSPEC_URL'] ?? '', apiKey: vars['AGENTSPEC_KEY'] ?? '' });
    try {
      // This stand-in serves no WebSocket: push mode (transport auto) falls back to HTTP, and the key goes nowhere else.
      const push = await waitFor(
        'the push',
        async () => calls.slice(before).find((c) => c.path === '/api/v1/heartbeat'),
        { timeoutMs: 5_000, intervalMs: 10 },
      );
      expect(push).toMatchObject({ authorization: `Bearer ${vars['AGENTSPEC_KEY']}` });
      expect(calls.slice(before).every((c) => ['/api/v1/heartbeat', '/api/v1/connect'].includes(c.path))).toBe(true);
    } finally {
      stopPushMode();
    }
  });
});

describe('auto-registration token refresh', () => {
  /** A token shaped like the control plane's: only its iat and exp claims are read by the client. */
  const jwtDueNow = (n: number): string => {
    const now = Math.floor(Date.now() / 1000);
    const claims = Buffer.from(JSON.stringify({ iat: now - 100, exp: now + 20, n })).toString('base64url');
    return `eyJhbGciOiJIUzI1NiJ9.${claims}.sig`;
  };
  let refreshServer: Server;
  let url = '';
  const seen: { path: string; authorization?: string }[] = [];
  let refuseRefresh = false;
  let registered = 0;

  beforeAll(async () => {
    refreshServer = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push({
          path: req.url ?? '',
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        });
        const json = (status: number, body: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        if (req.url === '/api/v1/register') {
          registered++;
          return json(201, {
            agentId: 'a1',
            instanceId: 'pod-1',
            apiKey: jwtDueNow(registered),
            expiresAt: new Date(Date.now() + 20_000).toISOString(),
            heartbeatIntervalSeconds: 0.05,
          });
        }
        if (req.url === '/api/v1/token/refresh') {
          if (refuseRefresh) return json(401, { error: 'Unauthorized', message: 'token revoked: register again' });
          return json(200, {
            agentId: 'a1',
            instanceId: 'pod-1',
            apiKey: `refreshed-${registered}`,
            expiresAt: new Date(Date.now() + 3600_000).toISOString(),
            heartbeatIntervalSeconds: 0.05,
          });
        }
        if (req.url === '/api/v1/heartbeat') return void res.writeHead(204).end();
        res.writeHead(404).end();
      });
    });
    url = await listenOnLoopback(refreshServer);
  });
  afterAll(() => void refreshServer.close());

  const start = () =>
    new AutoRegistration({
      config: {
        controlPlaneUrl: url,
        adminKey: 'admin-key',
        agentName: 'coach',
        namespace: 'team-a',
        instanceId: 'pod-1',
        runtime: 'k8s',
      },
      manifest,
      heartbeat: async () => ({ health: { status: 'healthy' }, gap: { score: 90 } }),
      backoff: { baseMs: 10, maxMs: 50 },
      log: () => undefined,
    }).start();

  it('swaps the token at two thirds of its lifetime and heartbeats with the fresh one', async () => {
    const registration = start();
    try {
      await waitFor('a heartbeat with the refreshed token', async () =>
        seen.some((c) => c.path === '/api/v1/heartbeat' && c.authorization === 'Bearer refreshed-1'),
      );
      const refresh = seen.find((c) => c.path === '/api/v1/token/refresh');
      // The registered token (due for refresh at once) was the one swapped.
      expect(refresh?.authorization).toMatch(/^Bearer eyJhbGciOiJIUzI1NiJ9\./);
      expect(registration.status).toMatchObject({ refreshes: 1, registrations: 1 });
    } finally {
      registration.stop();
    }
  });

  it('registers again when the refresh is refused', async () => {
    refuseRefresh = true;
    seen.length = 0;
    const before = registered;
    const registration = start();
    try {
      await waitFor('a second registration after the refused refresh', async () => registered >= before + 2);
      expect(seen.filter((c) => c.path === '/api/v1/token/refresh').length).toBeGreaterThanOrEqual(1);
      expect(registration.status.refreshes).toBe(0);
    } finally {
      registration.stop();
      refuseRefresh = false;
    }
  });
});
