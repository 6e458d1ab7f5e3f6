// Connected mode across a replica's death: two control-plane processes on one PostgreSQL behind one address (a TCP
// balancer that sends each new connection to the first replica that accepts it). The replica holding the agent's
// WebSocket is SIGKILLed mid-stream; the agent reconnects to the other, and every heartbeat that was acknowledged is
// in the history (acknowledged only after commit).
import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startControlPlaneProcess, waitFor, type ControlPlaneProcess } from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';
import { ConnectedChannel, connectUrlFor } from '../control-plane/connected.js';

const replicas: ControlPlaneProcess[] = [];
let balancer: Server | undefined;
let channel: ConnectedChannel | undefined;

afterAll(async () => {
  channel?.close();
  balancer?.close();
  await Promise.all(replicas.map((r) => r.stop()));
});

/** Forwards each connection to the first of `ports` that accepts it. */
function tcpBalancer(ports: number[]): Promise<{ server: Server; url: string }> {
  const server = createServer((client: Socket) => {
    const attempt = (i: number): void => {
      if (i >= ports.length) return void client.destroy();
      const upstream = connectTcp(ports[i] ?? 0, '127.0.0.1');
      upstream.once('error', () => attempt(i + 1));
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        client.pipe(upstream).pipe(client);
      });
    };
    attempt(0);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${address.port}` });
    }),
  );
}

describe('connected mode across a replica SIGKILL', () => {
  it('reconnects to the other replica and loses no acknowledged heartbeat', async () => {
    const db = await testDatabase();
    const a = await startControlPlaneProcess({ databaseUrl: db });
    replicas.push(a);
    const b = await startControlPlaneProcess({ databaseUrl: db });
    replicas.push(b);
    const lb = await tcpBalancer([Number(new URL(a.url).port), Number(new URL(b.url).port)]);
    balancer = lb.server;

    const registered = await fetch(`${lb.url}/api/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-key': a.adminKey },
      body: JSON.stringify({ agentName: 'failover', namespace: 'ha', instanceId: 'f-1', runtime: 'k8s' }),
    });
    const { apiKey } = (await registered.json()) as { apiKey: string };
    channel = new ConnectedChannel({
      url: connectUrlFor(lb.url),
      token: () => apiKey,
      backoff: { baseMs: 100, maxMs: 1_000 },
      reconnectSpreadMs: 1_000,
      outboxSize: 100,
    });
    await waitFor('the socket (to A, the first that accepts)', async () => channel?.opened === 1 && channel.connected);

    // Each heartbeat carries its own score, so each is one history row: the history must hold every acked one.
    const acked: number[] = [];
    const send = async (score: number) => {
      const sent = await channel!.send({ health: { status: 'healthy' }, gap: { score } });
      if (sent.result === 'acked') acked.push(score);
    };
    for (let score = 1; score <= 20; score++) await send(score);
    await a.process.kill(); // SIGKILL: the socket goes with it
    await waitFor('a second socket, to B', async () => channel?.opened === 2 && channel.connected);
    for (let score = 21; score <= 40; score++) await send(score);
    expect(acked.length).toBeGreaterThanOrEqual(30);

    const history = await fetch(`${b.url}/api/v1/namespaces/ha/agents/failover/history`, {
      headers: { 'x-admin-key': b.adminKey },
    });
    const stored = new Set(((await history.json()) as { items: { score: number }[] }).items.map((i) => i.score));
    expect(acked.filter((score) => !stored.has(score))).toEqual([]);
    const connection = await fetch(`${b.url}/api/v1/agents/get_connection`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-key': b.adminKey },
      body: JSON.stringify({ instance_id: 'f-1' }),
    });
    expect(await connection.json()).toMatchObject({ transport: 'ws' });
  });
});
