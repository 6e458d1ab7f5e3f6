// The built agentspec-sidecar as a real process, in front of a real upstream agent process (plain, and
// SDK-instrumented), with a real OPA server and a real control plane.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import {
  freePort,
  listenOnLoopback,
  ManagedProcess,
  startControlPlaneProcess,
  testbinPaths,
  type ControlPlaneProcess,
} from '@agentspec/e2e';
import { startSidecarProcess, type SidecarProcess } from '../tests/support.js';

const root = resolve(import.meta.dirname, '..', '..');
const fixtures = resolve(import.meta.dirname, '..', 'tests', 'fixtures');
const manifestPath = join(fixtures, 'agent.yaml');
const processes: ManagedProcess[] = [];
const servers: Server[] = [];
const logDir = mkdtempSync(join(tmpdir(), 'sidecar-int-'));

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
});

async function startAgent(env: NodeJS.ProcessEnv = {}): Promise<string> {
  const port = await freePort();
  const agent = new ManagedProcess({
    name: 'test-agent',
    command: process.execPath,
    args: [join(fixtures, 'agent.mjs')],
    logPath: join(logDir, `agent-${port}.log`),
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', PORT: String(port), AGENT_MANIFEST: manifestPath, ...env },
  });
  processes.push(agent);
  const url = `http://127.0.0.1:${port}`;
  await agent.waitUntil('listening', async () => (await fetch(`${url}/hello`)).ok, 20_000);
  return url;
}

type Sidecar = SidecarProcess;

const startSidecar = (upstream: string, env: NodeJS.ProcessEnv = {}): Promise<Sidecar> =>
  startSidecarProcess(upstream, { manifestPath, logDir, processes, env: { TEST_MODEL_KEY: 'sk-test', ...env } });

const json = async (url: string, init?: RequestInit) => {
  const response = await fetch(url, init);
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
};

describe('agentspec-sidecar in front of a plain agent', () => {
  let agent = '';
  let sidecar: Sidecar;
  beforeAll(async () => {
    agent = await startAgent();
    sidecar = await startSidecar(agent);
  });

  it('passes requests through with an x-request-id the agent also sees', async () => {
    const response = await fetch(`${sidecar.proxy}/hello`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello');
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('x-seen-request-id')).toBe(id);
    const kept = await fetch(`${sidecar.proxy}/hello`, { headers: { 'x-request-id': 'client-chosen-1' } });
    expect(kept.headers.get('x-request-id')).toBe('client-chosen-1');
  });

  it('streams request and response bodies, chunked and SSE responses', async () => {
    const body = Buffer.alloc(1024 * 1024, 'a');
    const echo = await fetch(`${sidecar.proxy}/echo`, { method: 'POST', body });
    expect(Buffer.from(await echo.arrayBuffer()).equals(body)).toBe(true);

    const chunked = await fetch(`${sidecar.proxy}/chunked`);
    expect(chunked.headers.get('transfer-encoding')).toBe('chunked');
    expect(await chunked.text()).toBe('chunk-0\nchunk-1\nchunk-2\n');

    const sse = await fetch(`${sidecar.proxy}/sse`);
    expect(sse.headers.get('content-type')).toBe('text/event-stream');
    const reader = sse.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toBe('data: event-0\n\n'); // delivered before the stream ended
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toBe('data: event-1\n\ndata: event-2\n\n');
  });

  it('passes WebSocket upgrades through', async () => {
    const socket = new WebSocket(`${sidecar.proxy.replace('http', 'ws')}/ws`);
    const echoed = await new Promise<string>((resolvePromise, reject) => {
      socket.addEventListener('open', () => socket.send('ping over the sidecar'));
      socket.addEventListener('message', (event) => resolvePromise(String(event.data)));
      socket.addEventListener('error', () => reject(new Error('websocket failed')));
    });
    socket.close();
    expect(echoed).toBe('ping over the sidecar');
  });

  it('strips the behaviour headers and records them in the audit ring', async () => {
    const response = await fetch(`${sidecar.proxy}/behaviour?tools=plan-workout&guardrails=pii-detector`);
    expect(response.headers.get('x-agentspec-tools-called')).toBeNull();
    expect(response.headers.get('x-agentspec-guardrails-invoked')).toBeNull();
    const id = response.headers.get('x-request-id');
    const audit = await json(`${sidecar.diagnostics}/agentspec/audit?limit=1`);
    expect(audit.body).toMatchObject({
      source: 'manifest-static',
      limit: 1,
      entries: [
        {
          requestId: id,
          method: 'GET',
          status: 200,
          toolsCalled: ['plan-workout'],
          guardrailsInvoked: ['pii-detector'],
        },
      ],
    });
    expect((await json(`${sidecar.diagnostics}/agentspec/audit?limit=zero`)).status).toBe(400);
  });

  it('reports manifest-static diagnostics: ready, gap capped at 70, explore, agent card', async () => {
    const ready = await json(`${sidecar.diagnostics}/agentspec/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', source: 'manifest-static', upstream: { reachable: true } });
    const gap = await json(`${sidecar.diagnostics}/agentspec/gap`);
    expect(gap.body).toMatchObject({ score: 70, grade: 'C', source: 'manifest-static' });
    const explore = await json(`${sidecar.diagnostics}/agentspec/explore`);
    expect(explore.body).toMatchObject({ source: 'manifest-static', agentName: 'test-coach' });
    expect((explore.body['tools'] as { status: string }[]).map((t) => t.status)).toEqual(['unknown', 'unknown']);
    const card = await json(`${sidecar.diagnostics}/.well-known/agent-card.json`);
    expect(card.body).toMatchObject({ name: 'test-coach', version: '0.3.0', source: 'manifest-static' });
    expect((card.body['skills'] as { id: string }[]).map((s) => s.id)).toEqual(['plan-workout', 'delete-history']);
    const metrics = await (await fetch(`${sidecar.diagnostics}/metrics`)).text();
    expect(metrics).toContain('agentspec_sidecar_proxy_requests_total{status="200"}');
  });

  it("answers every diagnostics path without the /agentspec prefix as upstream's sidecar does (seed 002), and both card names", async () => {
    const withoutTimes = (body: Record<string, unknown>) =>
      JSON.parse(
        JSON.stringify(body, (key, value: unknown) =>
          /^(timestamp|checkedAt|latencyMs)$/.test(key) ? undefined : value,
        ),
      ) as unknown;
    for (const [prefixed, bare] of [
      ['/agentspec/health/ready', '/health/ready'],
      ['/agentspec/health/ready', '/agentspec/health'],
      ['/agentspec/health/live', '/health/live'],
      ['/agentspec/explore', '/explore'],
      ['/agentspec/gap', '/gap'],
      ['/agentspec/audit?limit=5', '/audit?limit=5'],
      ['/.well-known/agent-card.json', '/.well-known/agent.json'],
    ] as const) {
      const [a, b] = [await json(`${sidecar.diagnostics}${prefixed}`), await json(`${sidecar.diagnostics}${bare}`)];
      expect({ path: bare, status: b.status }).toEqual({ path: bare, status: a.status });
      expect(withoutTimes(b.body)).toEqual(withoutTimes(a.body));
    }
    const lookup = (path: string) =>
      json(`${sidecar.diagnostics}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ requestId: 'no-such-request', events: [] }),
      });
    const [a, b] = [await lookup('/agentspec/events'), await lookup('/events')];
    expect({ status: b.status, body: b.body }).toEqual({ status: a.status, body: a.body });
  });

  it('is not ready (503) and answers 502 when the agent is unreachable', async () => {
    const orphan = await startSidecar(`http://127.0.0.1:${await freePort()}`);
    const ready = await json(`${orphan.diagnostics}/agentspec/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'not-ready', upstream: { reachable: false } });
    const proxied = await json(`${orphan.proxy}/hello`);
    expect(proxied.status).toBe(502);
    expect(proxied.body).toMatchObject({ error: 'BadGateway' });
    await orphan.process.stop();
  });

  it('refuses to start with a bad UPSTREAM_URL, with the documented message (seed 001, environment variables)', async () => {
    const bad = new ManagedProcess({
      name: 'agentspec-sidecar',
      command: process.execPath,
      args: [join(root, 'sidecar', 'dist', 'bin', 'sidecar.js')],
      logPath: join(logDir, 'bad.log'),
      env: { PATH: process.env['PATH'] ?? '', UPSTREAM_URL: 'localhost:8000' },
    });
    await expect(bad.waitUntil('exited', async () => false, 10_000)).rejects.toThrow(
      'Invalid UPSTREAM_URL: "localhost:8000" — must use http: or https: protocol',
    );
  });
});

describe('agentspec-sidecar in front of an SDK-instrumented agent', () => {
  it('reports agent-sdk diagnostics from the live HealthReport', async () => {
    // The agent has no TEST_MODEL_KEY: its model check is skipped (gap: high), its env check fails (not ready).
    const agent = await startAgent({ AGENT_SDK: '1', AGENT_TOOLS: 'plan-workout,delete-history' });
    const sidecar = await startSidecar(agent);
    const ready = await json(`${sidecar.diagnostics}/agentspec/health/ready`);
    expect(ready.body).toMatchObject({ source: 'agent-sdk', status: 'not-ready' });
    expect(ready.status).toBe(503);
    const gap = await json(`${sidecar.diagnostics}/agentspec/gap`);
    expect(gap.body['source']).toBe('agent-sdk');
    expect(gap.body['issues']).toEqual(
      expect.arrayContaining([expect.objectContaining({ severity: 'high', property: 'model.apiKey' })]),
    );
    const explore = await json(`${sidecar.diagnostics}/agentspec/explore`);
    expect((explore.body['tools'] as { status: string }[]).map((t) => t.status)).toEqual(['pass', 'pass']);
  });
});

describe('agentspec-sidecar with OPA', () => {
  let agent = '';
  let opaUrl = '';
  beforeAll(async () => {
    agent = await startAgent();
    const port = await freePort();
    const opa = new ManagedProcess({
      name: 'opa',
      command: testbinPaths().opa,
      args: ['run', '--server', `--addr=127.0.0.1:${port}`, join(fixtures, 'policy.rego')],
      logPath: join(logDir, 'opa.log'),
    });
    processes.push(opa);
    opaUrl = `http://127.0.0.1:${port}`;
    await opa.waitUntil('ready', async () => (await fetch(`${opaUrl}/health`)).ok, 30_000);
  });

  const risky = '/behaviour?guardrails=pii-detector&tools=delete-history&confirmed=false';

  it('track: passes the response and reports the violations, in the audit ring and in /agentspec/gap (seed 002)', async () => {
    const sidecar = await startSidecar(agent, { OPA_URL: opaUrl, OPA_PROXY_MODE: 'track' });
    const response = await fetch(`${sidecar.proxy}${risky}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ answer: 'done' });
    expect(response.headers.get('x-agentspec-opa-violations')).toBe('destructive_tool_without_confirmation');
    expect(response.headers.get('x-agentspec-tools-called')).toBeNull();
    const clean = await fetch(`${sidecar.proxy}/behaviour?guardrails=pii-detector&tools=plan-workout`);
    expect(clean.headers.get('x-agentspec-opa-violations')).toBeNull();
    const audit = await json(`${sidecar.diagnostics}/agentspec/audit?limit=2`);
    expect((audit.body['entries'] as { opaViolations?: string[] }[]).map((e) => e.opaViolations)).toEqual([
      [],
      ['destructive_tool_without_confirmation'],
    ]);
    // The gap report carries what the audit ring's requests were found with, with the severity the name carries.
    const gap = await json(`${sidecar.diagnostics}/agentspec/gap`);
    expect(gap.body['issues']).toEqual(
      expect.arrayContaining([
        {
          severity: 'critical',
          property: 'opa:destructive_tool_without_confirmation',
          description: 'OPA policy violation destructive_tool_without_confirmation in 1 of the last 2 requests',
          recommendation: expect.stringContaining('GET /agentspec/audit'),
        },
      ]),
    );
  });

  it('enforce: replaces a denied response with the 403 PolicyViolation', async () => {
    const sidecar = await startSidecar(agent, { OPA_URL: opaUrl, OPA_PROXY_MODE: 'enforce' });
    const response = await fetch(`${sidecar.proxy}${risky.replace('guardrails=pii-detector&', '')}`);
    expect(response.status).toBe(403);
    expect(response.headers.get('x-agentspec-opa-violations')).toBe(
      'destructive_tool_without_confirmation,pii_detector_not_invoked',
    );
    expect(await response.json()).toEqual({
      error: 'PolicyViolation',
      blocked: true,
      violations: ['destructive_tool_without_confirmation', 'pii_detector_not_invoked'],
      message: 'Request blocked by OPA policy: destructive_tool_without_confirmation, pii_detector_not_invoked',
    });
    // No behaviour headers: enforce still asks OPA, judging the agent on what it did not report.
    const silent = await fetch(`${sidecar.proxy}/hello`);
    expect(silent.status).toBe(403);
    expect(silent.headers.get('x-agentspec-opa-violations')).toBe('pii_detector_not_invoked');
  });

  it('fails open when OPA is unreachable, even in enforce', async () => {
    const sidecar = await startSidecar(agent, {
      OPA_URL: `http://127.0.0.1:${await freePort()}`,
      OPA_PROXY_MODE: 'enforce',
    });
    const response = await fetch(`${sidecar.proxy}${risky}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-agentspec-opa-violations')).toBeNull();
  });

  it('EventPush: 200 found with OPA violations for a proxied request, 202 for an unknown one', async () => {
    const sidecar = await startSidecar(agent, { OPA_URL: opaUrl, OPA_PROXY_MODE: 'off' });
    const proxied = await fetch(`${sidecar.proxy}/hello`);
    const requestId = proxied.headers.get('x-request-id');
    const push = (id: string | null) =>
      json(`${sidecar.diagnostics}/agentspec/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          requestId: id,
          agentName: 'test-coach',
          events: [
            { type: 'guardrail', guardrailType: 'pii-detector', invoked: true, blocked: false },
            { type: 'tool', name: 'delete-history', success: true, latencyMs: 82 },
          ],
        }),
      });
    const found = await push(requestId);
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({
      requestId,
      found: true,
      opaViolations: ['destructive_tool_without_confirmation'],
    });
    const missing = await push('not-a-request');
    expect(missing.status).toBe(202);
    expect(missing.body).toMatchObject({ requestId: 'not-a-request', found: false });
    const bad = await json(`${sidecar.diagnostics}/agentspec/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: [] }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ field: 'requestId' });
  });
});

describe('agentspec-sidecar with an upstream AgentSpec policy (data.agentspec.agent.<name>.deny, snake_case)', () => {
  let opaUrl = '';
  let agent = '';
  beforeAll(async () => {
    agent = await startAgent();
    const port = await freePort();
    const opa = new ManagedProcess({
      name: 'opa-upstream',
      command: testbinPaths().opa,
      args: ['run', '--server', `--addr=127.0.0.1:${port}`, join(fixtures, 'upstream-policy.rego')],
      logPath: join(logDir, 'opa-upstream.log'),
    });
    processes.push(opa);
    opaUrl = `http://127.0.0.1:${port}`;
    await opa.waitUntil('ready', async () => (await fetch(`${opaUrl}/health`)).ok, 30_000);
  });

  it.each(['auto', 'upstream'])('OPA_POLICY_LAYOUT=%s: the upstream policy denies in enforce mode', async (layout) => {
    const sidecar = await startSidecar(agent, {
      OPA_URL: opaUrl,
      OPA_PROXY_MODE: 'enforce',
      OPA_POLICY_LAYOUT: layout,
    });
    const denied = await fetch(`${sidecar.proxy}/behaviour?tools=delete-history&confirmed=false`);
    expect(denied.status).toBe(403);
    expect(denied.headers.get('x-agentspec-opa-violations')).toBe(
      'destructive_tool_without_confirmation,pii_detector_not_invoked',
    );
    const allowed = await fetch(
      `${sidecar.proxy}/behaviour?guardrails=pii-detector&tools=delete-history&confirmed=true`,
    );
    expect(allowed.status).toBe(200);
  });

  it('OPA_POLICY_LAYOUT=agentspec asks our rule only: an upstream policy then denies nothing', async () => {
    const sidecar = await startSidecar(agent, {
      OPA_URL: opaUrl,
      OPA_PROXY_MODE: 'enforce',
      OPA_POLICY_LAYOUT: 'agentspec',
    });
    expect((await fetch(`${sidecar.proxy}/behaviour?tools=delete-history&confirmed=false`)).status).toBe(200);
  });
});

describe('agentspec-sidecar $secret: check (seed 002, manifest-static)', () => {
  it('says whether the secret backend the sidecar sees provides each referenced secret', async () => {
    const agent = await startAgent();
    const dir = mkdtempSync(join(tmpdir(), 'sidecar-secret-'));
    const manifest = join(dir, 'agent.yaml');
    writeFileSync(manifest, readFileSync(manifestPath, 'utf8').replace('$env:TEST_MODEL_KEY', '$secret:model-key'));
    const check = async (env: NodeJS.ProcessEnv) => {
      const sidecar = await startSidecarProcess(agent, { manifestPath: manifest, logDir, processes, env });
      const ready = await json(`${sidecar.diagnostics}/agentspec/health/ready`);
      return (ready.body['checks'] as { id: string; status: string; severity: string; message?: string }[]).find(
        (c) => c.id === 'secret:model-key',
      );
    };
    expect(await check({ AGENTSPEC_SECRETS_DIR: dir })).toMatchObject({
      status: 'fail',
      severity: 'warning',
      message: 'secret model-key (used by spec.model.apiKey) is not available to the sidecar',
    });
    writeFileSync(join(dir, 'model-key'), 'sk-from-a-mounted-secret');
    expect(await check({ AGENTSPEC_SECRETS_DIR: dir })).toMatchObject({ status: 'pass' });
    expect(
      await check({ AGENTSPEC_SECRETS_DIR: join(dir, 'none'), AGENTSPEC_SECRET_MODEL_KEY: 'sk-env' }),
    ).toMatchObject({
      status: 'pass',
    });
  });
});

describe('agentspec-sidecar LLM gap analysis (ANTHROPIC_API_KEY, seed 001)', () => {
  const KEY = 'sk-ant-test-0123456789abcdef';
  type Answer = { status: number; body?: unknown; hang?: boolean };
  /** A local server speaking the Messages API: each POST /v1/messages is recorded and answered from the script. */
  async function messagesApi(answer: (n: number) => Answer) {
    const requests: {
      headers: Record<string, string | string[] | undefined>;
      body: { model: string; messages: { content: string }[] };
    }[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        requests.push({ headers: req.headers, body: JSON.parse(text) as never });
        const a = answer(requests.length);
        if (a.hang) return; // no answer: the client's timeout
        res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.body ?? {}));
      });
    });
    servers.push(server);
    return { url: await listenOnLoopback(server), requests };
  }
  const message = (text: string) => ({
    id: 'msg_test',
    type: 'message',
    role: 'assistant',
    model: 'claude-test-model',
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 50 },
  });
  const answered = JSON.stringify({
    summary: 'The agent declares a destructive tool without human approval.',
    recommendations: [
      { severity: 'high', property: 'humanInTheLoop', recommendation: 'Require approval before delete-history.' },
    ],
  });
  const gapWith = async (api: string, extra: NodeJS.ProcessEnv = {}) => {
    const agent = await startAgent();
    const sidecar = await startSidecar(agent, { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: api, ...extra });
    return { sidecar, gap: async () => json(`${sidecar.diagnostics}/agentspec/gap`) };
  };

  it('asks the model once per manifest through the official client, and answers with its reading beside the static score', async () => {
    const api = await messagesApi(() => ({ status: 200, body: message(`Here you go:\n${answered}`) }));
    const { sidecar, gap } = await gapWith(api.url);
    const first = await gap();
    expect(first.status).toBe(200);
    expect(first.body['analysis']).toMatchObject({
      source: 'llm',
      model: 'claude-test-model',
      summary: 'The agent declares a destructive tool without human approval.',
      recommendations: [
        { severity: 'high', property: 'humanInTheLoop', recommendation: 'Require approval before delete-history.' },
      ],
    });
    expect(typeof first.body['score']).toBe('number'); // the score stays the static one
    expect(api.requests).toHaveLength(1);
    const [request] = api.requests;
    // The client sends the key as X-Api-Key or as a Bearer credential, as its version does.
    expect(request?.headers['x-api-key'] ?? String(request?.headers['authorization']).replace(/^Bearer /, '')).toBe(
      KEY,
    );
    expect(request?.body.model).toBe('claude-sonnet-4-5');
    const prompt = request?.body.messages[0]?.content ?? '';
    expect(prompt).toContain('test-coach');
    expect(prompt.length).toBeLessThan(32 * 1024); // bounded: each part at most 8 KiB
    await gap();
    expect(api.requests).toHaveLength(1); // kept for AGENTSPEC_LLM_REFRESH_MINUTES
    expect(JSON.stringify(first.body)).not.toContain(KEY);
    expect(readFileSync(sidecar.process.options.logPath, 'utf8')).not.toContain(KEY);
  });

  it.each<[string, (n: number) => Answer, NodeJS.ProcessEnv, RegExp]>([
    [
      'a 500 (retried once)',
      () => ({ status: 500, body: { type: 'error', error: { type: 'api_error', message: 'boom' } } }),
      {},
      /answered 500/,
    ],
    [
      'a refused key',
      () => ({
        status: 401,
        body: { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } },
      }),
      {},
      /refused ANTHROPIC_API_KEY \(401\)/,
    ],
    ['no answer', () => ({ status: 200, hang: true }), { AGENTSPEC_LLM_TIMEOUT_SECONDS: '1' }, /no answer within 1 s/],
    [
      'an answer that is not the JSON asked for',
      () => ({ status: 200, body: message('I cannot help with that.') }),
      {},
      /did not answer with the JSON/,
    ],
  ])('falls back to the static analysis, saying why, on %s', async (_, answer, extra, reason) => {
    const api = await messagesApi(answer);
    const { gap } = await gapWith(api.url, extra);
    const response = await gap();
    expect(response.status).toBe(200);
    expect(response.body['analysis']).toMatchObject({ source: 'static', reason: expect.stringMatching(reason) });
    expect(response.body['issues']).toEqual(expect.any(Array));
    expect(JSON.stringify(response.body)).not.toContain(KEY);
    const asked = api.requests.length;
    await gap();
    expect(api.requests.length).toBe(asked); // a failure is kept too: a failing API is not asked on every request
  });

  it('without ANTHROPIC_API_KEY the analysis is static and says so', async () => {
    const sidecar = await startSidecar(await startAgent());
    const response = await json(`${sidecar.diagnostics}/agentspec/gap`);
    expect(response.body['analysis']).toEqual({
      source: 'static',
      reason: 'ANTHROPIC_API_KEY is not set: the gap analysis is static',
    });
  });
});

describe('agentspec-sidecar registrar', () => {
  let controlPlane: ControlPlaneProcess;
  afterAll(() => controlPlane?.stop());

  it('registers the pod with the control plane and heartbeats its health and gap reports', async () => {
    controlPlane = await startControlPlaneProcess({ adminKey: 'sidecar-int-admin-key' });
    const agent = await startAgent();
    const sidecar = await startSidecar(agent, {
      AGENTSPEC_CONTROL_PLANE_URL: controlPlane.url,
      AGENTSPEC_ADMIN_KEY: controlPlane.adminKey,
      AGENTSPEC_AGENT_NAME: 'test-coach',
      AGENTSPEC_NAMESPACE: 'team-a',
      AGENTSPEC_INSTANCE_ID: 'test-coach-5d8f-abcde',
    });
    const gap = await json(`${sidecar.diagnostics}/agentspec/gap`);
    const read = () =>
      json(`${controlPlane.url}/api/v1/namespaces/team-a/agents/test-coach`, {
        headers: { 'x-admin-key': controlPlane.adminKey },
      });
    let agentView: Record<string, unknown> = {};
    await sidecar.process.waitUntil(
      'registered and reporting',
      async () => {
        const answer = await read();
        agentView = answer.body;
        return answer.status === 200 && agentView['score'] !== null;
      },
      20_000,
    );
    expect(agentView).toMatchObject({
      name: 'test-coach',
      namespace: 'team-a',
      score: gap.body['score'],
      grade: 'C',
      phase: 'Healthy',
    });
    expect(agentView['instances']).toEqual([
      expect.objectContaining({ instanceId: 'test-coach-5d8f-abcde', runtime: 'k8s' }),
    ]);
    const logs = sidecar.process.logTail(200);
    expect(logs).not.toContain(controlPlane.adminKey);
  });
});
