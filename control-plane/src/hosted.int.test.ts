// Hosted mode (seed 003): an instance registered with a publicUrl is admitted only once its agent card was fetched
// over HTTPS under the SSRF rules (docs/adr/0009-hosted-mode-ssrf.md); probes ask its /agentspec/health; it cannot
// switch modes in place.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoRegistration, autoRegistrationConfig, parseManifest } from '@agentspec/sdk';
import { createCertificateAuthority, waitFor } from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';
import {
  ADMIN_KEY,
  getConnection,
  post,
  register,
  startTestControlPlane,
  upgradeStatus,
  type TestControlPlane,
} from '../tests/support.js';

interface HostedAgent {
  server: Server;
  url: string;
  /** Paths requested, in order. */
  requests: string[];
  /** The health report it serves (changed by tests). */
  health: Record<string, unknown>;
}

const CARD = { name: 'hosted-agent', url: 'https://agent.example', version: '1.0.0', skills: [] };

/** An agent's public HTTPS surface, with the routes the SSRF tests need. */
async function startHostedAgent(tls: { key: string; cert: string }): Promise<HostedAgent> {
  const agent: HostedAgent = { server: undefined as unknown as Server, url: '', requests: [], health: {} };
  agent.server = createServer(tls, (req, res) => {
    const path = req.url ?? '/';
    agent.requests.push(path);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path.endsWith('/slow/.well-known/agent-card.json')) return; // never answers
    if (path === '/.well-known/agent-card.json' || path === '/base/.well-known/agent-card.json') return json(200, CARD);
    if (path === '/agentspec/health') return json(agent.health['status'] === 'unhealthy' ? 503 : 200, agent.health);
    if (path === '/nameless/.well-known/agent-card.json') return json(200, { version: '1' });
    if (path === '/html/.well-known/agent-card.json') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<html>not a card</html>');
    }
    if (path === '/huge/.well-known/agent-card.json') return json(200, { ...CARD, padding: 'x'.repeat(100_000) });
    if (path === '/moved/.well-known/agent-card.json') {
      res.writeHead(302, { location: '/base/.well-known/agent-card.json' });
      return res.end();
    }
    if (path === '/away/.well-known/agent-card.json') {
      res.writeHead(302, { location: 'https://169.254.169.254/latest/meta-data/' });
      return res.end();
    }
    json(404, { error: 'NotFound' });
  });
  await new Promise<void>((resolve) => agent.server.listen(0, '127.0.0.1', resolve));
  agent.url = `https://127.0.0.1:${(agent.server.address() as AddressInfo).port}`;
  return agent;
}

let cp: TestControlPlane;
let agent: HostedAgent;
let strangerAgent: HostedAgent;

beforeAll(async () => {
  const ca = await createCertificateAuthority('hosted-test-ca');
  const leaf = await ca.issue({ subject: 'CN=hosted-agent', ipAddresses: ['127.0.0.1'], usage: 'server' });
  agent = await startHostedAgent({ key: leaf.keyPem, cert: leaf.certPem });
  // Same address, a certificate from a CA the control plane does not trust.
  const other = await createCertificateAuthority('untrusted-ca');
  const stranger = await other.issue({ subject: 'CN=stranger', ipAddresses: ['127.0.0.1'], usage: 'server' });
  strangerAgent = await startHostedAgent({ key: stranger.keyPem, cert: stranger.certPem });
  const dir = mkdtempSync(join(tmpdir(), 'hosted-ca-'));
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  cp = await startTestControlPlane(await testDatabase(), {
    AGENTSPEC_HOSTED_CA_FILE: join(dir, 'ca.pem'),
    // The test agents listen on loopback, which is refused unless allowed; ::1 stays refused.
    AGENTSPEC_HOSTED_ALLOWED_NETWORKS: '127.0.0.1/32',
    AGENTSPEC_HOSTED_TIMEOUT_SECONDS: '1',
  });
});

afterAll(async () => {
  await cp?.close();
  for (const a of [agent, strangerAgent]) {
    a?.server.closeAllConnections();
    await new Promise((resolve) => a?.server.close(resolve));
  }
});

const registerHosted = (body: Record<string, unknown>) =>
  post(
    `${cp.url}/api/v1/register`,
    { namespace: 'hosted', agentName: 'web', runtime: 'k8s', ...body },
    { 'x-admin-key': ADMIN_KEY },
  );

async function refusal(res: Response): Promise<{ status: number; error: string; field?: string; message: string }> {
  return { status: res.status, ...((await res.json()) as { error: string; field?: string; message: string }) };
}

describe('hosted mode: admission', () => {
  it('admits an instance once its agent card was fetched over HTTPS (a private CA), and shows it as hosted', async () => {
    const before = agent.requests.length;
    const res = await registerHosted({ instanceId: 'web-1', publicUrl: `${agent.url}/` });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ instanceId: 'web-1', deploymentMode: 'hosted', publicUrl: `${agent.url}/` });
    expect(body['connectUrl']).toBeUndefined();
    expect(agent.requests.slice(before)).toEqual(['/.well-known/agent-card.json']);

    expect(await getConnection(cp.url, { instance_id: 'web-1', namespace: 'hosted' })).toMatchObject({
      deployment_mode: 'hosted',
      transport: 'callback',
    });
  });

  it('takes deploymentMode: hosted with a publicUrl under a path, and follows a redirect within the origin', async () => {
    const explicit = await registerHosted({
      instanceId: 'web-2',
      deploymentMode: 'hosted',
      publicUrl: `${agent.url}/base`,
    });
    expect(explicit.status).toBe(201);
    const moved = await registerHosted({ instanceId: 'web-3', publicUrl: `${agent.url}/moved` });
    expect(moved.status).toBe(201);
    expect(agent.requests).toContain('/base/.well-known/agent-card.json');
  });

  it('refuses http:// (400), a hosted instance without a publicUrl and a connected one with it (422), naming the field', async () => {
    expect(await refusal(await registerHosted({ instanceId: 'h', publicUrl: 'http://127.0.0.1:1/' }))).toMatchObject({
      status: 400,
      field: 'publicUrl',
      message: expect.stringContaining('https://') as string,
    });
    expect(await refusal(await registerHosted({ instanceId: 'h', deploymentMode: 'hosted' }))).toMatchObject({
      status: 422,
      error: 'InvalidDeploymentMode',
      field: 'publicUrl',
    });
    expect(
      await refusal(await registerHosted({ instanceId: 'h', deploymentMode: 'connected', publicUrl: agent.url })),
    ).toMatchObject({ status: 422, error: 'InvalidDeploymentMode', field: 'deploymentMode' });
  });

  it.each([
    ['a private IPv4 address', 'https://10.1.2.3/'],
    ['the cloud metadata address', 'https://169.254.169.254/'],
    ['loopback IPv6, outside the allowed networks', 'https://[::1]:8443/'],
    ['an IPv4-mapped private address', 'https://[::ffff:192.168.0.1]/'],
    ['the unspecified address', 'https://0.0.0.0/'],
  ])('refuses %s before connecting (422 ForbiddenAddress)', async (_what, publicUrl) => {
    const refused = await refusal(await registerHosted({ instanceId: 'private', publicUrl }));
    expect(refused).toMatchObject({ status: 422, error: 'ForbiddenAddress', field: 'publicUrl' });
    expect(refused.message).toMatch(/private or reserved address .*AGENTSPEC_HOSTED_ALLOWED_NETWORKS/);
  });

  it.each([
    ['a redirect to another origin', '/away', 'AgentCardUnavailable', /redirects to another origin/],
    ['no card (404)', '/none', 'AgentCardUnavailable', /answered 404/],
    ['a card without a name', '/nameless', 'InvalidAgentCard', /name/],
    ['HTML instead of a card', '/html', 'InvalidAgentCard', /not a valid agent card/],
    ['a card over 64 KiB', '/huge', 'AgentCardUnavailable', /larger than 65536 bytes/],
    ['no answer within the deadline', '/slow', 'AgentCardUnavailable', /did not answer within 1000 ms/],
  ])('refuses %s (422, named)', async (_what, path, error, message) => {
    const refused = await refusal(await registerHosted({ instanceId: 'bad-card', publicUrl: `${agent.url}${path}` }));
    expect(refused).toMatchObject({ status: 422, error, field: 'publicUrl' });
    expect(refused.message).toMatch(message);
  });

  it('refuses a server whose certificate is not from a trusted CA', async () => {
    const refused = await refusal(await registerHosted({ instanceId: 'stranger', publicUrl: strangerAgent.url }));
    expect(refused).toMatchObject({ status: 422, error: 'AgentCardUnavailable', field: 'publicUrl' });
    expect(strangerAgent.requests).toEqual([]);
  });

  it('never admitted an instance it refused', async () => {
    const res = await post(
      `${cp.url}/api/v1/agents/get_connection_stats`,
      { namespace: 'hosted' },
      { 'x-admin-key': ADMIN_KEY },
    );
    const stats = (await res.json()) as { total: number; by_deployment_mode: Record<string, number> };
    expect(stats.by_deployment_mode).toEqual({ connected: 0, hosted: 3 });
  });
});

describe('hosted mode: a mode switch in place is refused', () => {
  it('409 DEPLOYMENT_MODE_MISMATCH both ways; each mode re-registers in place', async () => {
    await register(cp.url, { namespace: 'hosted', agentName: 'switch', instanceId: 'a', runtime: 'k8s' });
    const toHosted = await post(
      `${cp.url}/api/v1/register`,
      { namespace: 'hosted', agentName: 'switch', instanceId: 'a', runtime: 'k8s', publicUrl: agent.url },
      { 'x-admin-key': ADMIN_KEY },
    );
    expect(await refusal(toHosted)).toMatchObject({
      status: 409,
      error: 'DEPLOYMENT_MODE_MISMATCH',
      field: 'deploymentMode',
      message: expect.stringContaining('new instanceId') as string,
    });

    const hosted = { namespace: 'hosted', agentName: 'switch', instanceId: 'b', runtime: 'k8s', publicUrl: agent.url };
    expect((await post(`${cp.url}/api/v1/register`, hosted, { 'x-admin-key': ADMIN_KEY })).status).toBe(201);
    const again = await post(`${cp.url}/api/v1/register`, hosted, { 'x-admin-key': ADMIN_KEY });
    expect(again.status).toBe(201);
    const toConnected = await post(
      `${cp.url}/api/v1/register`,
      { namespace: 'hosted', agentName: 'switch', instanceId: 'b', runtime: 'k8s' },
      { 'x-admin-key': ADMIN_KEY },
    );
    expect(await refusal(toConnected)).toMatchObject({ status: 409, error: 'DEPLOYMENT_MODE_MISMATCH' });

    // Nor can the hosted instance open connected mode's socket with its token.
    const { apiKey } = (await again.json()) as { apiKey: string };
    const refused = await upgradeStatus(`${cp.url.replace('http', 'ws')}/api/v1/connect`, {
      authorization: `Bearer ${apiKey}`,
    });
    expect(refused).toBe(409);
  });
});

describe('hosted mode: probe now', () => {
  it("returns the agent's live report from {publicUrl}/agentspec/health, 503 included, and names an unreachable one", async () => {
    agent.health = { status: 'unhealthy', checks: [{ id: 'env:X', status: 'fail' }] };
    const probe = async () => {
      const res = await post(`${cp.url}/api/v1/namespaces/hosted/agents/web/probe`, {}, { 'x-admin-key': ADMIN_KEY });
      expect(res.status).toBe(200);
      return ((await res.json()) as { instances: { instanceId: string; status: string; report?: unknown }[] })
        .instances;
    };
    const first = await probe();
    expect(first.map((i) => i.instanceId)).toEqual(['web-1', 'web-2', 'web-3']);
    expect(first[0]).toMatchObject({ status: 'ok', report: agent.health });
    // web-2 and web-3 live under /base and /moved: /base/agentspec/health is not served (404).
    expect(first[1]).toMatchObject({ status: 'unreachable' });

    agent.health = { status: 'healthy', checks: [] };
    expect((await probe())[0]).toMatchObject({ status: 'ok', report: { status: 'healthy' } });
  });
});

describe('hosted mode: auto-registration with AGENTSPEC_PUBLIC_URL', () => {
  it('registers the instance hosted, heartbeats over HTTP and opens no socket', async () => {
    const { manifest } = parseManifest({
      apiVersion: 'agentspec.io/v1',
      kind: 'AgentSpec',
      metadata: { name: 'web', version: '1.0.0', description: 'A hosted agent.' },
      spec: { model: { provider: 'local', id: 'tiny' }, prompts: { system: 's' } },
    });
    const config = autoRegistrationConfig(
      {
        AGENTSPEC_CONTROL_PLANE_URL: cp.url,
        AGENTSPEC_ADMIN_KEY: ADMIN_KEY,
        AGENTSPEC_NAMESPACE: 'hosted',
        AGENTSPEC_INSTANCE_ID: 'web-auto',
        AGENTSPEC_PUBLIC_URL: agent.url,
      },
      'web',
    )!;
    const registration = new AutoRegistration({
      config,
      manifest,
      heartbeat: async () => ({ health: { status: 'healthy', checks: [] }, gap: { score: 88 } }),
      log: () => undefined,
    });
    registration.start();
    try {
      const connection = () => getConnection(cp.url, { instance_id: 'web-auto', namespace: 'hosted' });
      await waitFor('a heartbeat of the hosted instance', async () => Boolean((await connection()).last_heartbeat));
      expect(await connection()).toMatchObject({ deployment_mode: 'hosted', transport: 'callback' });
      expect(registration.status).toMatchObject({ registered: true, transport: 'http' });
      const metrics = await (await fetch(`${cp.url}/metrics`)).text();
      expect(metrics).toMatch(/^agentspec_ws_connections 0$/m);
    } finally {
      registration.stop();
    }
  });
});
