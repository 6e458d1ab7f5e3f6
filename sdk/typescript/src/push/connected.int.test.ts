// Push mode over connected mode's WebSocket against a real control plane on PostgreSQL: heartbeats travel as frames,
// the socket comes back after a control-plane restart with what was taken meanwhile, `auto` falls back to HTTP
// where upgrades are refused, and a long disconnect reaches the code that asked for it.
import { createServer, request, type Server } from 'node:http';
import { connect as connectTcp } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  freePort,
  listenOnLoopback,
  startControlPlaneProcess,
  waitFor,
  type ControlPlaneProcess,
} from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';
import { loadManifest } from '../manifest/load.js';
import { AgentDisconnectedError, ConnectedChannel, connectUrlFor } from '../control-plane/connected.js';
import { startPushMode, stopPushMode } from './push-mode.js';
import { runCli } from '../cli/agentspec.js';
import { AutoRegistration } from '../control-plane/auto-register.js';
import { AgentSpecReporter } from '../health/reporter.js';

const { manifest, baseDir } = loadManifest(
  new URL('../../../../examples/minimal/agent.yaml', import.meta.url).pathname,
);
const started: { stop(): Promise<void> }[] = [];
const servers: Server[] = [];

afterEach(async () => {
  stopPushMode();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

async function controlPlane(databaseUrl: string, port?: number): Promise<ControlPlaneProcess> {
  const cp = await startControlPlaneProcess({ databaseUrl, ...(port ? { port } : {}) });
  started.push(cp);
  return cp;
}

async function registerIn(cp: ControlPlaneProcess, instanceId: string): Promise<string> {
  const res = await fetch(`${cp.url}/api/v1/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-admin-key': cp.adminKey },
    body: JSON.stringify({ agentName: manifest.metadata.name, namespace: 'push-ws', instanceId, runtime: 'local' }),
  });
  return ((await res.json()) as { apiKey: string }).apiKey;
}

async function connection(cp: ControlPlaneProcess, instanceId: string) {
  const res = await fetch(`${cp.url}/api/v1/agents/get_connection`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-admin-key': cp.adminKey },
    body: JSON.stringify({ instance_id: instanceId }),
  });
  return (await res.json()) as { transport?: string; last_heartbeat?: string | null };
}

describe('push mode over the WebSocket', () => {
  it('heartbeats as frames, and after a control-plane restart reconnects and replays what it took meanwhile', async () => {
    const db = await testDatabase();
    let cp = await controlPlane(db);
    const apiKey = await registerIn(cp, 'ws-push-1');
    startPushMode({ manifest, baseDir, url: `${cp.url}/api/v1/heartbeat`, apiKey, intervalMs: 1_000, transport: 'ws' });
    await waitFor('a heartbeat over the socket', async () => {
      const c = await connection(cp, 'ws-push-1');
      return c.transport === 'ws' && c.last_heartbeat;
    });

    const port = Number(new URL(cp.url).port);
    await cp.stop();
    const down = Date.now();
    cp = await controlPlane(db, port);
    await waitFor(
      'the socket back, with a heartbeat taken after the restart began',
      async () => {
        const c = await connection(cp, 'ws-push-1');
        return c.transport === 'ws' && c.last_heartbeat && Date.parse(c.last_heartbeat) > down;
      },
      { timeoutMs: 45_000 },
    );
  }, 90_000);

  it('answers "probe now" asked through another replica: connected to A, probed via B (two control planes, one PostgreSQL)', async () => {
    const db = await testDatabase();
    const a = await controlPlane(db);
    const b = await controlPlane(db);
    const apiKey = await registerIn(a, 'ws-probe-1');
    startPushMode({ manifest, baseDir, url: `${a.url}/api/v1/heartbeat`, apiKey, intervalMs: 1_000, transport: 'ws' });
    await waitFor('the socket to A', async () => (await connection(b, 'ws-probe-1')).transport === 'ws');
    const res = await fetch(`${b.url}/api/v1/namespaces/push-ws/agents/${manifest.metadata.name}/probe`, {
      method: 'POST',
      headers: { 'x-admin-key': b.adminKey },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { instances: { instanceId: string; status: string; report?: unknown }[] };
    expect(body.instances).toEqual([expect.objectContaining({ instanceId: 'ws-probe-1', status: 'ok' })]);
    // A live report: the health checks run again and the audit, as a heartbeat carries them.
    expect(body.instances[0]?.report).toMatchObject({
      health: { checks: expect.any(Array) },
      gap: { score: expect.any(Number) },
    });

    // The same through the CLI: agentspec probe <namespace>/<name>.
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    const target = `push-ws/${manifest.metadata.name}`;
    expect(await runCli(['probe', target, '--control-plane', b.url], io, { AGENTSPEC_ADMIN_KEY: b.adminKey })).toBe(0);
    expect(out.join('\n')).toMatch(/^ws-probe-1: ok in \d+ ms — health [\w-]+, score \d+$/m);
    stopPushMode();
    await waitFor('the socket gone', async () => (await connection(b, 'ws-probe-1')).transport === 'callback');
    out.length = 0;
    expect(await runCli(['probe', target, '--control-plane', b.url], io, { AGENTSPEC_ADMIN_KEY: b.adminKey })).toBe(1);
    expect(out.join('\n')).toMatch(/^ws-probe-1: unreachable: /m);
  });

  it('auto: falls back to HTTP where the upgrade is refused (a proxy that strips upgrades)', async () => {
    const cp = await controlPlane(await testDatabase());
    const apiKey = await registerIn(cp, 'ws-push-2');
    const target = new URL(cp.url);
    // Forwards plain requests to the control plane and answers every upgrade with 400, as such proxies do.
    const proxy = createServer((req, res) => {
      const upstream = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    proxy.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n'));
    servers.push(proxy);
    const proxied = await listenOnLoopback(proxy);
    startPushMode({
      manifest,
      baseDir,
      url: `${proxied}/api/v1/heartbeat`,
      apiKey,
      intervalMs: 1_000,
      transport: 'auto',
    });
    const first = await waitFor(
      'a heartbeat over HTTP',
      async () => (await connection(cp, 'ws-push-2')).last_heartbeat,
    );
    await waitFor('more heartbeats over HTTP', async () => {
      const c = await connection(cp, 'ws-push-2');
      return c.transport === 'callback' && c.last_heartbeat !== first;
    });
  });

  it('a refused upgrade is tried again later: HTTP meanwhile, the socket once the way is open', async () => {
    const cp = await controlPlane(await testDatabase());
    const apiKey = await registerIn(cp, 'ws-retry-1');
    const target = new URL(cp.url);
    let allow = false;
    const proxy = createServer((_req, res) => res.writeHead(404).end());
    proxy.on('upgrade', (req, socket, head) => {
      if (!allow) return void socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
      const upstream = connectTcp(Number(target.port), target.hostname, () => {
        const headers = Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`);
        upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
        upstream.write(head);
        socket.pipe(upstream).pipe(socket);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    servers.push(proxy);
    const base = await listenOnLoopback(proxy);
    const channel = new ConnectedChannel({ url: connectUrlFor(base), token: () => apiKey, refusedRetryMs: 200 });
    started.push({ stop: async () => channel.close() });
    await waitFor('the refusal', async () => channel.refused);
    expect(channel.refusedStatus).toBe(502);
    allow = true;
    await waitFor('the socket on a later try', async () => channel.connected && !channel.refused);
    expect(await channel.send({ health: { status: 'healthy' }, gap: { score: 80 } })).toEqual({ result: 'acked' });
  });

  it('ws: a disconnect past the bound reaches onDisconnected as an AgentDisconnectedError', async () => {
    const errors: AgentDisconnectedError[] = [];
    const port = await freePort(); // nothing listens there
    startPushMode({
      manifest,
      baseDir,
      url: `http://127.0.0.1:${port}/api/v1/heartbeat`,
      apiKey: 'a.b.c',
      intervalMs: 200,
      transport: 'ws',
      disconnectBoundMs: 500,
      onDisconnected: (err) => errors.push(err),
    });
    await waitFor('the disconnect to be reported', async () => errors.length > 0);
    expect(errors[0]).toBeInstanceOf(AgentDisconnectedError);
    expect(errors[0]?.message).toMatch(/disconnected from ws:\/\/127\.0\.0\.1:\d+\/api\/v1\/connect for \d+ s/);
    expect(errors).toHaveLength(1); // once per disconnect, not per heartbeat
  });
});

describe("upstream's reporter.startPushMode", () => {
  it("heartbeats the reporter's report to {controlPlaneUrl}/api/v1/heartbeat; a revoked key reaches onError, redacted", async () => {
    const cp = await controlPlane(await testDatabase());
    const apiKey = await registerIn(cp, 'upstream-1');
    const reporter = new AgentSpecReporter({ manifest, baseDir, autoRegister: false });
    const errors: Error[] = [];
    reporter.startPushMode({ controlPlaneUrl: cp.url, apiKey, intervalSeconds: 30, onError: (e) => errors.push(e) });
    expect(reporter.isPushModeActive()).toBe(true);
    await waitFor('its heartbeat', async () => Boolean((await connection(cp, 'upstream-1')).last_heartbeat));
    reporter.stopPushMode();
    expect(reporter.isPushModeActive()).toBe(false);

    await registerIn(cp, 'upstream-1'); // revokes the key
    reporter.startPushMode({
      controlPlaneUrl: cp.url,
      apiKey,
      intervalSeconds: 30,
      transport: 'http',
      onError: (e) => errors.push(e),
    });
    await waitFor('the 401 reported', async () => errors.length > 0);
    expect(errors[0]?.message).toMatch(/HTTP 401/);
    expect(errors[0]?.message).not.toContain(apiKey);
  });
});

describe('ConnectedChannel after a control-plane restart', () => {
  it('replays the newest heartbeat taken while down once, and does not send a second one within replayGapMs', async () => {
    const db = await testDatabase();
    let cp = await controlPlane(db);
    const apiKey = await registerIn(cp, 'replay-1');
    const channel = new ConnectedChannel({
      url: connectUrlFor(cp.url),
      token: () => apiKey,
      reconnectSpreadMs: 500,
      replayGapMs: 600_000,
      backoff: { baseMs: 100, maxMs: 500 },
    });
    started.push({ stop: async () => channel.close() });
    await waitFor('the socket', async () => channel.connected);
    const beat = (score: number) => channel.send({ health: { status: 'healthy' }, gap: { score } });
    expect(await beat(40)).toEqual({ result: 'acked' });

    const port = Number(new URL(cp.url).port);
    await cp.stop();
    await waitFor('the socket lost', async () => !channel.connected);
    expect(await beat(41)).toEqual({ result: 'queued' });
    expect(await beat(42)).toEqual({ result: 'queued' }); // the newest wins: 41 is dropped (outbox of 1)
    cp = await controlPlane(db, port);
    const gap = async () => {
      const res = await fetch(`${cp.url}/api/v1/namespaces/push-ws/agents/${manifest.metadata.name}/gap`, {
        headers: { 'x-admin-key': cp.adminKey },
      });
      return res.ok ? ((await res.json()) as { gap: { score?: number } }).gap.score : undefined;
    };
    await waitFor('the replayed heartbeat stored', async () => channel.opened === 2 && (await gap()) === 42);
    // The replay carried the newest state: the next heartbeat inside the gap is not sent, the one after is.
    expect(await beat(43)).toEqual({ result: 'coalesced' });
    expect(await gap()).toBe(42);
    expect(await beat(44)).toEqual({ result: 'acked' });
    expect(await gap()).toBe(44);
  }, 90_000);
});

describe('auto-registration over the WebSocket', () => {
  it('registers over HTTP, then heartbeats over the socket the registration offered and answers probes', async () => {
    const cp = await controlPlane(await testDatabase());
    const registrar = new AutoRegistration({
      config: {
        controlPlaneUrl: cp.url,
        adminKey: cp.adminKey,
        agentName: manifest.metadata.name,
        namespace: 'auto-ws',
        instanceId: 'auto-ws-1',
        runtime: 'k8s',
        transport: 'auto',
      },
      manifest,
      heartbeat: async () => ({ health: { status: 'healthy', checks: [] }, gap: { score: 91 } }),
      log: () => undefined,
    }).start();
    started.push({ stop: async () => registrar.stop() });
    await waitFor('a heartbeat over the socket', async () => registrar.status.transport === 'ws');
    expect((await connection(cp, 'auto-ws-1')).transport).toBe('ws');
    const probed = await fetch(`${cp.url}/api/v1/namespaces/auto-ws/agents/${manifest.metadata.name}/probe`, {
      method: 'POST',
      headers: { 'x-admin-key': cp.adminKey },
    });
    expect(await probed.json()).toMatchObject({
      instances: [{ instanceId: 'auto-ws-1', status: 'ok', report: { gap: { score: 91 } } }],
    });
  });
});
