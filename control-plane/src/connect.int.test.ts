// Connected mode (seed 003), the control plane's side: an instance keeps a WebSocket open with its JWT, heartbeats
// over it with the same rules as POST /api/v1/heartbeat, and the fleet sees it as `ws` while it is connected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, SignJWT } from 'jose';
import WebSocket from 'ws';
import { waitFor } from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';
import {
  ADMIN_KEY,
  JWT_SECRET,
  collectEvents,
  register,
  getConnection,
  startTestControlPlane,
  upgradeStatus,
  type CollectedEvents,
  type TestControlPlane,
} from '../tests/support.js';

let cp: TestControlPlane;
let events: CollectedEvents;
const open: WebSocket[] = [];

beforeAll(async () => {
  // A 1 s heartbeat interval: the server pings every second. Minimum interval 0 except where a test sets it.
  cp = await startTestControlPlane(await testDatabase(), { AGENTSPEC_HEARTBEAT_INTERVAL_SECONDS: '1' });
  events = collectEvents(cp.url);
  await events.opened;
});

afterAll(async () => {
  for (const ws of open) ws.terminate();
  await events?.close();
  await cp?.close();
});

interface Frame {
  type: string;
  id?: string;
  status?: number;
  error?: string;
  field?: string;
  message?: string;
  retryAfterSeconds?: number;
}

/** A connected instance: its socket and every frame it received. */
async function connect(
  url: string,
  token: string,
  options: WebSocket.ClientOptions = {},
): Promise<{ ws: WebSocket; frames: Frame[]; closed: Promise<{ code: number; reason: string }> }> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, ...options });
  open.push(ws);
  const frames: Frame[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Frame));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames, closed };
}

/** Sends a frame and waits for the answer carrying its id. */
async function request(conn: { ws: WebSocket; frames: Frame[] }, frame: Record<string, unknown>): Promise<Frame> {
  conn.ws.send(JSON.stringify(frame));
  return waitFor(`the answer to ${String(frame['id'])}`, async () => conn.frames.find((f) => f.id === frame['id']));
}

const connection = (instanceId: string) => getConnection(cp.url, { instance_id: instanceId });

describe('GET /api/v1/connect', () => {
  it('offers connectUrl at registration; heartbeats over the socket are acknowledged and stored', async () => {
    const reg = (await register(cp.url, {
      agentName: 'ws-agent',
      namespace: 'conn',
      instanceId: 'ws-1',
      runtime: 'k8s',
    })) as {
      apiKey: string;
      connectUrl?: string;
    };
    expect(reg.connectUrl).toBe(`${cp.url.replace(/^http/, 'ws')}/api/v1/connect`);
    const conn = await connect(reg.connectUrl ?? '', reg.apiKey);
    await waitFor('agent.connected', async () =>
      events.events.some((e) => e.type === 'agent.connected' && e.instanceId === 'ws-1'),
    );
    expect((await connection('ws-1')).transport).toBe('ws');

    const ack = await request(conn, {
      type: 'heartbeat',
      id: 'h1',
      body: { health: { status: 'healthy' }, gap: { score: 88 } },
    });
    expect(ack).toEqual({ type: 'ack', id: 'h1' });
    const agent = await fetch(`${cp.url}/api/v1/namespaces/conn/agents/ws-agent`, {
      headers: { 'x-admin-key': ADMIN_KEY },
    });
    expect(await agent.json()).toMatchObject({ score: 88, grade: 'B' });
    expect(await request(conn, { type: 'ping', id: 'p1' })).toEqual({ type: 'pong', id: 'p1' });
    // Counted with every heartbeat, whichever transport carried it, and per frame type.
    const metrics = await (await fetch(`${cp.url}/metrics`)).text();
    expect(metrics).toMatch(/agentspec_heartbeats_total\{result="accepted"\} [1-9]/);
    expect(metrics).toMatch(/agentspec_connect_messages_total\{type="heartbeat_written"\} [1-9]/);
    expect(metrics).toMatch(/agentspec_ws_connections [1-9]/);

    conn.ws.close(1000);
    await waitFor('agent.disconnected', async () =>
      events.events.some((e) => e.type === 'agent.disconnected' && e.instanceId === 'ws-1'),
    );
    await waitFor('the transport back to callback', async () => (await connection('ws-1')).transport === 'callback');
  });

  it('answers a bad frame or body with an error naming it, and keeps the connection', async () => {
    const reg = await register(cp.url, {
      agentName: 'ws-agent',
      namespace: 'conn',
      instanceId: 'ws-2',
      runtime: 'k8s',
    });
    const conn = await connect(`${cp.url.replace(/^http/, 'ws')}/api/v1/connect`, reg.apiKey);
    conn.ws.send('{not json');
    await waitFor('the InvalidFrame error', async () => conn.frames.some((f) => f.error === 'InvalidFrame'));
    conn.ws.send(Buffer.from([0xff, 0x00]), { binary: true });
    expect(await request(conn, { type: 'teleport', id: 't1' })).toMatchObject({ status: 400, field: 'type' });
    const invalid = await request(conn, {
      type: 'heartbeat',
      id: 'h-bad',
      body: { health: { status: 'ok' }, gap: { score: 101 } },
    });
    expect(invalid).toMatchObject({ type: 'error', status: 400 });
    expect(invalid.message).toMatch(/gap\.score/);
    // What HTTP refuses before any route is refused over the socket too (PostgreSQL would store it as json text).
    const nul = await new Promise<Frame>((resolve) => {
      conn.ws.send('{"type":"heartbeat","id":"h-nul","body":{"health":{"note":"\\u0000"},"gap":{}}}');
      void waitFor('the answer', async () => conn.frames.some((f) => f.id === 'h-nul')).then(() =>
        resolve(conn.frames.find((f) => f.id === 'h-nul')!),
      );
    });
    expect(nul).toMatchObject({ type: 'error', status: 400, field: 'body.health.note' });
    expect(await request(conn, { type: 'heartbeat', id: 'h-ok', body: { health: {}, gap: {} } })).toEqual({
      type: 'ack',
      id: 'h-ok',
    });
    expect(conn.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('refuses an upgrade without a valid token (401) or on another path (404), before any WebSocket exists', async () => {
    const base = cp.url.replace(/^http/, 'ws');
    expect(await upgradeStatus(`${base}/api/v1/connect`)).toBe(401);
    expect(await upgradeStatus(`${base}/api/v1/connect`, { authorization: 'Bearer not.a.jwt' })).toBe(401);
    const reg = await register(cp.url, {
      agentName: 'ws-agent',
      namespace: 'conn',
      instanceId: 'ws-3',
      runtime: 'k8s',
    });
    expect(await upgradeStatus(`${base}/api/v1/elsewhere`, { authorization: `Bearer ${reg.apiKey}` })).toBe(404);
  });

  it('keeps one socket per instance: a newer connection replaces the older', async () => {
    const reg = await register(cp.url, {
      agentName: 'ws-agent',
      namespace: 'conn',
      instanceId: 'ws-4',
      runtime: 'k8s',
    });
    const url = `${cp.url.replace(/^http/, 'ws')}/api/v1/connect`;
    const first = await connect(url, reg.apiKey);
    const second = await connect(url, reg.apiKey);
    expect((await first.closed).code).toBe(4409);
    expect(await request(second, { type: 'ping', id: 'still-here' })).toMatchObject({ type: 'pong' });
    expect((await connection('ws-4')).transport).toBe('ws');
  });

  it('closes with 4401 when the token is revoked by a new registration of the instance', async () => {
    const body = { agentName: 'ws-agent', namespace: 'conn', instanceId: 'ws-5', runtime: 'k8s' };
    const old = await register(cp.url, body);
    const conn = await connect(`${cp.url.replace(/^http/, 'ws')}/api/v1/connect`, old.apiKey);
    await register(cp.url, body); // rotates the instance's token
    const refused = await request(conn, { type: 'heartbeat', id: 'h-old', body: { health: {}, gap: {} } });
    expect(refused).toMatchObject({ status: 401 });
    expect((await conn.closed).code).toBe(4401);

    // A socket cannot be opened with the revoked token either: the upgrade is refused with 401.
    const status = await upgradeStatus(`${cp.url.replace(/^http/, 'ws')}/api/v1/connect`, {
      authorization: `Bearer ${old.apiKey}`,
    });
    expect(status).toBe(401);
  });

  it('closes the socket with 4401 when its token expires (it was checked only at the upgrade)', async () => {
    const reg = await register(cp.url, {
      agentName: 'ws-agent',
      namespace: 'conn',
      instanceId: 'ws-exp',
      runtime: 'k8s',
    });
    const claims = decodeJwt(reg.apiKey);
    // The same instance and token id, signed with the control plane's secret, but expiring in 2 s.
    const short = await new SignJWT({ ins: claims['ins'] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.sub ?? '')
      .setJti(claims.jti ?? '')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .setIssuer('agentspec-control-plane')
      .sign(new TextEncoder().encode(JWT_SECRET));
    const conn = await connect(`${cp.url.replace(/^http/, 'ws')}/api/v1/connect`, short);
    expect(await conn.closed).toEqual({ code: 4401, reason: 'token expired: refresh it or register again' });
  });

  it('closes a connection that stops answering pings (the server-side deadline)', async () => {
    const reg = await register(cp.url, {
      agentName: 'ws-agent',
      namespace: 'conn',
      instanceId: 'ws-6',
      runtime: 'k8s',
    });
    const silent = await connect(`${cp.url.replace(/^http/, 'ws')}/api/v1/connect`, reg.apiKey, { autoPong: false });
    const { code } = await silent.closed;
    expect(code).toBe(1006); // terminated: no close frame from a peer that may be gone
    await waitFor('the transport back to callback', async () => (await connection('ws-6')).transport === 'callback');
  });
});

describe('GET /api/v1/connect with a heartbeat rate limit', () => {
  it('answers a heartbeat that comes too soon with 429 and its Retry-After', async () => {
    const limited = await startTestControlPlane(await testDatabase(), {
      AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS: '30',
    });
    try {
      const reg = await register(limited.url, {
        agentName: 'ws-agent',
        namespace: 'conn',
        instanceId: 'ws-7',
        runtime: 'k8s',
      });
      const conn = await connect(`${limited.url.replace(/^http/, 'ws')}/api/v1/connect`, reg.apiKey);
      expect(await request(conn, { type: 'heartbeat', id: 'a', body: { health: {}, gap: {} } })).toMatchObject({
        type: 'ack',
      });
      const second = await request(conn, { type: 'heartbeat', id: 'b', body: { health: {}, gap: {} } });
      expect(second).toMatchObject({ type: 'error', status: 429, error: 'TooManyHeartbeats' });
      expect(second.retryAfterSeconds).toBeGreaterThan(0);
      conn.ws.close();
    } finally {
      await limited.close();
    }
  });
});

describe('POST /api/v1/namespaces/{ns}/agents/{name}/probe', () => {
  const probe = async (name: string, query = '') => {
    const res = await fetch(`${cp.url}/api/v1/namespaces/probes/agents/${name}/probe${query}`, {
      method: 'POST',
      headers: { 'x-admin-key': ADMIN_KEY },
    });
    return { status: res.status, body: (await res.json()) as { instances?: Record<string, unknown>[] } };
  };

  it('returns the live report of a connected instance, and names why the others cannot answer', async () => {
    const url = `${cp.url.replace(/^http/, 'ws')}/api/v1/connect`;
    const answering = await register(cp.url, {
      agentName: 'probed',
      namespace: 'probes',
      instanceId: 'a-ws',
      runtime: 'k8s',
    });
    const silent = await register(cp.url, {
      agentName: 'probed',
      namespace: 'probes',
      instanceId: 'b-silent',
      runtime: 'k8s',
    });
    await register(cp.url, { agentName: 'probed', namespace: 'probes', instanceId: 'c-http', runtime: 'k8s' });
    const a = await connect(url, answering.apiKey);
    a.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.type === 'probe')
        a.ws.send(JSON.stringify({ type: 'probe_result', id: frame.id, report: { live: true } }));
    });
    await connect(url, silent.apiKey); // connected, never answers a probe
    await waitFor('both sockets recorded', async () =>
      ['a-ws', 'b-silent'].every((id) =>
        events.events.some((e) => e.type === 'agent.connected' && e.instanceId === id),
      ),
    );

    const { status, body } = await probe('probed', '?timeoutSeconds=1');
    expect(status).toBe(200);
    expect(body.instances).toEqual([
      { instanceId: 'a-ws', status: 'ok', report: { live: true }, latencyMs: expect.any(Number) },
      { instanceId: 'b-silent', status: 'timeout', error: 'timeout: no answer within 1000 ms' },
      { instanceId: 'c-http', status: 'unreachable', error: expect.stringMatching(/^unreachable: .*HTTP/) },
    ]);
  });

  it('answers 404 for an agent that is not registered and 400 naming a bad timeout', async () => {
    expect((await probe('nobody')).status).toBe(404);
    const bad = await probe('probed', '?timeoutSeconds=99');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('timeoutSeconds');
  });
});

describe('GET /api/v1/connect when a replica stops', () => {
  it("marks its instances disconnected before it closes their sockets (the fleet never shows a dead replica's ws)", async () => {
    const db = await testDatabase();
    const a = await startTestControlPlane(db, { AGENTSPEC_HEARTBEAT_INTERVAL_SECONDS: '1' });
    const b = await startTestControlPlane(db, { AGENTSPEC_HEARTBEAT_INTERVAL_SECONDS: '1' });
    try {
      const reg = await register(a.url, {
        agentName: 'ws-agent',
        namespace: 'stop',
        instanceId: 'ws-stop',
        runtime: 'k8s',
      });
      const conn = await connect(`${a.url.replace(/^http/, 'ws')}/api/v1/connect`, reg.apiKey);
      const transport = async () =>
        (await getConnection(b.url, { instance_id: 'ws-stop', namespace: 'stop' })).transport;
      await waitFor('the socket recorded', async () => (await transport()) === 'ws');
      await a.close();
      expect(await transport()).toBe('callback');
      expect((await conn.closed).code).toBe(1001);
    } finally {
      await b.close();
    }
  });
});
