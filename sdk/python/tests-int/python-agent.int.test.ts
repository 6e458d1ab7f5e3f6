// The Python SDK against the real control plane on PostgreSQL, with the example Python agent (FastAPI + LangGraph,
// examples/python-agent) as a real process: auto-registration from the variables the webhook injects, heartbeats,
// registering again after its token is revoked, push mode across a control-plane restart; and the health checks
// against a real Redis and a real PostgreSQL, compared with the TypeScript SDK's.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { loadManifest, parseManifest, runAudit, runHealthChecks } from '@agentspec/sdk';
import {
  freePort,
  ManagedProcess,
  PYTHON_AGENT_APP,
  pythonSdkVenv,
  startControlPlaneProcess,
  startTestRedis,
  waitFor,
  type ControlPlaneProcess,
} from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';

const run = promisify(execFile);
const { python } = pythonSdkVenv();
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function controlPlane(databaseUrl: string, port?: number): Promise<ControlPlaneProcess> {
  const cp = await startControlPlaneProcess({ databaseUrl, ...(port ? { port } : {}) });
  stops.push(() => cp.stop());
  return cp;
}

/** The example agent as a process with `env` (nothing else of this process's environment but PATH and HOME). */
async function pythonAgent(env: Record<string, string>): Promise<{ process: ManagedProcess; log: () => string }> {
  const dir = mkdtempSync(join(tmpdir(), 'agentspec-py-agent-'));
  const port = await freePort();
  const logPath = join(dir, 'agent.log');
  const agent = new ManagedProcess({
    name: 'python-agent',
    command: python,
    args: [PYTHON_AGENT_APP],
    logPath,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: dir,
      PORT: String(port),
      HOST: '127.0.0.1',
      NOTES_TEAM: 'platform',
      ...env,
    },
  });
  stops.push(() => agent.stop());
  await agent.waitUntil(
    'serving /agentspec/health',
    async () => (await fetch(`http://127.0.0.1:${port}/agentspec/health`)).ok,
    60_000,
  );
  return { process: agent, log: () => readFileSync(logPath, 'utf8') };
}

async function adminPost(cp: ControlPlaneProcess, path: string, body: unknown): Promise<Response> {
  return fetch(`${cp.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-admin-key': cp.adminKey },
    body: JSON.stringify(body),
  });
}

async function lastHeartbeat(cp: ControlPlaneProcess, instanceId: string): Promise<number> {
  const res = await adminPost(cp, '/api/v1/agents/get_connection', { instance_id: instanceId });
  const body = (await res.json()) as { last_heartbeat?: string | null };
  return body.last_heartbeat ? Date.parse(body.last_heartbeat) : 0;
}

const example = loadManifest(PYTHON_AGENT_APP.replace(/app\.py$/, 'agent.yaml'));

describe('a Python agent on the real control plane', () => {
  it('auto-registers from the injected variables, heartbeats, and registers again after its token is revoked', async () => {
    const cp = await controlPlane(await testDatabase());
    const agent = await pythonAgent({
      AGENTSPEC_CONTROL_PLANE_URL: cp.url,
      AGENTSPEC_ADMIN_KEY: cp.adminKey,
      AGENTSPEC_INSTANCE_ID: 'py-1',
      AGENTSPEC_NAMESPACE: 'py-int',
      AGENTSPEC_AGENT_NAME: 'python-agent',
    });
    await waitFor('its first heartbeat', async () => (await lastHeartbeat(cp, 'py-1')) > 0);

    // The control plane holds the Python SDK's report and audit: the grade the TypeScript SDK gives the same file.
    const expected = runAudit(example.manifest);
    const summary = await waitFor('the agent summary with its grade', async () => {
      const res = await fetch(`${cp.url}/api/v1/namespaces/py-int/agents?name=python-agent`, {
        headers: { 'x-admin-key': cp.adminKey },
      });
      const item = ((await res.json()) as { items: { grade: string | null; score: number | null; source: string }[] })
        .items[0];
      return item?.grade ? item : undefined;
    });
    expect(summary).toMatchObject({ grade: expected.grade, score: expected.score });

    // Registering the instance again (as an operator would) revokes the agent's token: its next heartbeat gets 401,
    // and only an agent that registered again can be heartbeating after that.
    const revoked = await adminPost(cp, '/api/v1/register', {
      agentName: 'python-agent',
      namespace: 'py-int',
      instanceId: 'py-1',
      runtime: 'local',
    });
    expect(revoked.status).toBe(201);
    const stolenToken = ((await revoked.json()) as { apiKey: string }).apiKey;
    const revokedAt = Date.now();
    await waitFor(
      'a heartbeat accepted after the revocation',
      async () => (await lastHeartbeat(cp, 'py-1')) > revokedAt,
      { timeoutMs: 60_000 },
    );
    await waitFor('the agent saying it registers again', async () => agent.log().includes('registering again'));
    const log = agent.log();
    expect(log).not.toContain(cp.adminKey);
    expect(log).not.toContain(stolenToken);
    expect(log).not.toMatch(/eyJ[\w-]{5,}\.[\w-]{5,}\./);
  });

  it('push mode (seed 000) keeps pushing across a control-plane restart', async () => {
    const db = await testDatabase();
    const port = await freePort();
    const first = await controlPlane(db, port);
    const registered = await adminPost(first, '/api/v1/register', {
      agentName: 'python-agent',
      namespace: 'py-push',
      instanceId: 'py-push-1',
      runtime: 'local',
    });
    const { apiKey } = (await registered.json()) as { apiKey: string };
    const agent = await pythonAgent({
      AGENTSPEC_URL: `${first.url}/api/v1/heartbeat`,
      AGENTSPEC_KEY: apiKey,
      AGENTSPEC_PUSH_INTERVAL_SECONDS: '1',
    });
    await waitFor('the first push', async () => (await lastHeartbeat(first, 'py-push-1')) > 0);

    await first.stop();
    const restartedAt = Date.now();
    const second = await controlPlane(db, port);
    await waitFor(
      'a push taken by the restarted control plane',
      async () => (await lastHeartbeat(second, 'py-push-1')) > restartedAt,
      { timeoutMs: 60_000 },
    );
    expect(agent.log()).not.toContain(apiKey);
    expect(agent.log()).toContain('shorter than the control plane'); // 1 s is below the default minimum: said at start
  });
});

describe('Python health checks against real servers', () => {
  it('Redis PING (with AUTH) and PostgreSQL SELECT 1 pass, a wrong password fails; the same ids and statuses as TypeScript', async () => {
    const redis = await startTestRedis({ password: 'redis-pass-5d1e' });
    stops.push(() => redis.stop());
    const database = await testDatabase();
    const wrong = redis.url.replace('redis-pass-5d1e', 'wrong-pass-0000');
    const document = {
      apiVersion: 'agentspec.io/v1',
      kind: 'AgentSpec',
      metadata: { name: 'checks', version: '1.0.0', description: 'Checks real servers.' },
      spec: {
        model: { provider: 'openai', id: 'gpt-4o' },
        prompts: { system: 'Hi.' },
        requires: {
          services: [
            { type: 'redis', connection: '$env:REDIS_URL' },
            { type: 'postgres', connection: '$env:DATABASE_URL' },
            { type: 'redis', connection: '$env:WRONG_REDIS_URL' },
          ],
        },
      },
    };
    const env = { REDIS_URL: redis.url, DATABASE_URL: database, WRONG_REDIS_URL: wrong };
    const dir = mkdtempSync(join(tmpdir(), 'agentspec-py-checks-'));
    writeFileSync(join(dir, 'agent.json'), JSON.stringify(document));
    const script = [
      'import json, sys',
      'from agentspec import parse_manifest, run_health_checks',
      'manifest = parse_manifest(json.load(open(sys.argv[1]))).manifest',
      'env = json.loads(sys.argv[2])',
      'print(json.dumps(run_health_checks(manifest, base_dir=".", env=env, categories=["service"])))',
    ].join('\n');
    const { stdout } = await run(python, ['-c', script, join(dir, 'agent.json'), JSON.stringify(env)], {
      timeout: 60_000,
    });
    const fromPython = JSON.parse(stdout) as { id: string; status: string; latencyMs?: number; message?: string }[];
    expect(fromPython.map((c) => [c.id, c.status])).toEqual([
      ['service:redis', 'pass'],
      ['service:postgres', 'pass'],
      ['service:redis#2', 'fail'],
    ]);
    expect(fromPython[0]?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(fromPython[2]?.message).toMatch(/redis answered WRONGPASS/);
    expect(stdout).not.toContain('redis-pass-5d1e');

    const fromTypeScript = await runHealthChecks(parseManifest(document).manifest, {
      baseDir: dir,
      env,
      categories: ['service'],
    });
    expect(fromTypeScript.map((c) => [c.id, c.status, c.message ?? null])).toEqual(
      fromPython.map((c) => [c.id, c.status, c.message ?? null]),
    );
  });
});
