// `agentspec generate --framework` (seed 000, step 1): the Express scaffold run against the real control plane on
// PostgreSQL (push mode from .env.agentspec, and auto-registration from the webhook's variables); the Python ones
// compiled, and the FastAPI and LangGraph ones served with the Python SDK installed.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  freePort,
  ManagedProcess,
  pythonSdkVenv,
  startControlPlaneProcess,
  waitFor,
  type ControlPlaneProcess,
} from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';
import { runCli } from './agentspec.js';
import { ENV_PLACEHOLDER } from './scaffold.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..', '..', '..');
const example = join(root, 'examples', 'fitness-coach', 'agent.yaml');
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  return runCli(args, { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`) }, {}).then((code) => ({
    code,
    out,
    err,
  }));
}

const fresh = (): string => join(mkdtempSync(join(tmpdir(), 'agentspec-scaffold-')), 'out');

async function lastHeartbeat(cp: ControlPlaneProcess, instanceId: string): Promise<string | null | undefined> {
  const res = await fetch(`${cp.url}/api/v1/agents/get_connection`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-admin-key': cp.adminKey },
    body: JSON.stringify({ instance_id: instanceId }),
  });
  return ((await res.json()) as { last_heartbeat?: string | null }).last_heartbeat;
}

/** The generated Express agent as a process, its dependencies resolved from this repository's node_modules. */
async function runExpress(dir: string, env: Record<string, string>): Promise<number> {
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  const port = await freePort();
  const agent = new ManagedProcess({
    name: 'express-scaffold',
    command: process.execPath,
    args: [join(dir, 'server.mjs')],
    logPath: join(dir, 'agent.log'),
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', PORT: String(port), GYM_NAME: 'Riverside', ...env },
  });
  stops.push(() => agent.stop());
  await agent.waitUntil(
    'serving /agentspec/health',
    async () => (await fetch(`http://127.0.0.1:${port}/agentspec/health`)).ok,
    30_000,
  );
  return port;
}

describe('agentspec generate --framework', () => {
  it('seed 000 step 1: --framework langgraph --push writes the agent, its requirements and .env.agentspec', async () => {
    const out = fresh();
    const result = await cli(['generate', example, '--framework', 'langgraph', '--push', '--output', out]);
    expect(result.code).toBe(0);
    for (const file of ['agent.py', 'requirements.txt', 'agent.yaml', '.env.agentspec']) {
      expect(existsSync(join(out, file)), file).toBe(true);
    }
    expect(readFileSync(join(out, '.env.agentspec'), 'utf8')).toBe(ENV_PLACEHOLDER);
    expect(result.out).toContain('fill in AGENTSPEC_URL and AGENTSPEC_KEY');
  });

  it("seed 000 step 2: the seed's startPushMode snippet, as written, pushes to the control plane and stops on SIGTERM", async () => {
    const cp = await startControlPlaneProcess({ databaseUrl: await testDatabase() });
    stops.push(() => cp.stop());
    const out = fresh();
    expect((await cli(['generate', example, '--framework', 'express', '--push', '--output', out])).code).toBe(0);
    // Step 1 says "fill in the real values": those `agentspec register` writes.
    const registered = await fetch(`${cp.url}/api/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-key': cp.adminKey },
      body: JSON.stringify({ agentName: 'fitness-coach', namespace: 'seed', instanceId: 'seed-000', runtime: 'local' }),
    });
    const { apiKey } = (await registered.json()) as { apiKey: string };
    // The seed's TypeScript, verbatim; the line after it stands for the agent's own work, which keeps it running.
    const seedSnippet = [
      "import { loadManifest, startPushMode, stopPushMode } from '@agentspec/sdk'",
      '',
      "const { manifest } = loadManifest('./agent.yaml')",
      '',
      '// Fire immediately and every 30 seconds',
      'startPushMode({',
      '  manifest,',
      '  url: process.env.AGENTSPEC_URL!,',
      '  apiKey: process.env.AGENTSPEC_KEY!,',
      '  intervalMs: 30_000,',
      '})',
      '',
      '// Graceful shutdown',
      "process.on('SIGTERM', () => {",
      '  stopPushMode()',
      '  process.exit(0)',
      '})',
    ].join('\n');
    writeFileSync(join(out, 'seed-000.ts'), `${seedSnippet}\nsetInterval(() => {}, 60_000)\n`);
    if (!existsSync(join(out, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'));
    const agent = new ManagedProcess({
      name: 'seed-000-step-2',
      command: process.execPath, // Node 24 runs TypeScript by stripping its types
      args: [join(out, 'seed-000.ts')],
      logPath: join(out, 'agent.log'),
      cwd: out,
      env: {
        PATH: process.env['PATH'] ?? '',
        GYM_NAME: 'Riverside',
        AGENTSPEC_URL: `${cp.url}/api/v1/heartbeat`,
        AGENTSPEC_KEY: apiKey,
      },
    });
    stops.push(() => agent.stop());
    await agent.waitUntil('pushed', async () => Boolean(await lastHeartbeat(cp, 'seed-000')), 30_000);
    await agent.stop();
    expect(agent.exit).toEqual({ code: 0, signal: null });
    expect(readFileSync(join(out, 'agent.log'), 'utf8')).not.toContain(apiKey);
  });

  it('the Express scaffold pushes to the control plane from .env.agentspec, and registers itself from the webhook variables', async () => {
    const cp = await startControlPlaneProcess({ databaseUrl: await testDatabase() });
    stops.push(() => cp.stop());
    const out = fresh();
    expect((await cli(['generate', example, '--framework', 'express', '--push', '--output', out])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'package.json'), 'utf8'))).toMatchObject({
      dependencies: { '@agentspec/sdk': expect.any(String), express: expect.any(String) },
    });

    // Push mode (seed 000): the values `agentspec register` would write into .env.agentspec.
    const registered = await fetch(`${cp.url}/api/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-key': cp.adminKey },
      body: JSON.stringify({
        agentName: 'fitness-coach',
        namespace: 'scaffold',
        instanceId: 'express-push',
        runtime: 'local',
      }),
    });
    const { apiKey } = (await registered.json()) as { apiKey: string };
    writeFileSync(join(out, '.env.agentspec'), `AGENTSPEC_URL=${cp.url}/api/v1/heartbeat\nAGENTSPEC_KEY=${apiKey}\n`);
    const port = await runExpress(out, {});
    await waitFor('the scaffold push', async () => Boolean(await lastHeartbeat(cp, 'express-push')));
    const health = (await (await fetch(`http://127.0.0.1:${port}/agentspec/health`)).json()) as { agentName: string };
    expect(health.agentName).toBe('fitness-coach');

    // Auto-registration: no .env.agentspec, the variables the webhook injects.
    const auto = fresh();
    expect((await cli(['generate', example, '--framework', 'express', '--output', auto])).code).toBe(0);
    await runExpress(auto, {
      AGENTSPEC_CONTROL_PLANE_URL: cp.url,
      AGENTSPEC_ADMIN_KEY: cp.adminKey,
      AGENTSPEC_INSTANCE_ID: 'express-auto',
      AGENTSPEC_NAMESPACE: 'scaffold',
      AGENTSPEC_TRANSPORT: 'http',
    });
    await waitFor('the scaffold registered and heartbeating', async () =>
      Boolean(await lastHeartbeat(cp, 'express-auto')),
    );
  });

  it('the Python scaffolds compile; the FastAPI and LangGraph ones serve their health and report their tools', async () => {
    const { python } = pythonSdkVenv();
    for (const framework of ['fastapi', 'langgraph', 'crewai']) {
      const out = fresh();
      expect((await cli(['generate', example, '--framework', framework, '--push', '--output', out])).code).toBe(0);
      const entry = join(out, framework === 'langgraph' ? 'agent.py' : 'main.py');
      await run(python, ['-m', 'py_compile', entry]);
      if (framework === 'crewai') continue; // crewai is not installed here: compiled only
      const script = [
        'import runpy, sys',
        'from fastapi.testclient import TestClient',
        'app = runpy.run_path(sys.argv[1])["app"]',
        'with TestClient(app) as client:',
        '    health = client.get("/agentspec/health")',
        '    chat = client.post("/v1/chat", json={"question": "a plan for me"})',
        '    print(health.status_code, health.json()["agentName"], chat.status_code, chat.headers.get("x-agentspec-tools-called"))',
      ].join('\n');
      const { stdout } = await run(python, ['-c', script, entry], {
        env: { PATH: process.env['PATH'] ?? '' },
        timeout: 60_000,
      });
      expect(stdout.trim()).toBe(
        framework === 'langgraph'
          ? '200 fitness-coach 200 plan-workout,log-workout,delete-history'
          : '200 fitness-coach 200 None',
      );
    }
  });

  it('--deploy keeps working alone and combined; bad or missing options exit 2 naming what is wanted', async () => {
    const both = fresh();
    expect(
      (await cli(['generate', example, '--framework', 'fastapi', '--deploy', 'k8s', '--push', '--output', both])).code,
    ).toBe(0);
    for (const file of ['main.py', 'k8s/deployment.yaml', 'k8s/service.yaml', '.env.agentspec']) {
      expect(existsSync(join(both, file)), file).toBe(true);
    }
    const alone = fresh();
    expect((await cli(['generate', example, '--deploy', 'helm', '--output', alone])).code).toBe(0);
    expect(existsSync(join(alone, 'Chart.yaml'))).toBe(true);
    expect(existsSync(join(alone, 'main.py'))).toBe(false);

    const none = await cli(['generate', example]);
    expect(none.code).toBe(2);
    expect(none.err).toContain('--framework express|fastapi|langgraph|crewai and/or --deploy k8s|helm');
    const wrong = await cli(['generate', example, '--framework', 'django', '--output', fresh()]);
    expect([wrong.code, wrong.err]).toEqual([2, expect.stringContaining('--framework: expected one of express')]);
    const again = await cli(['generate', example, '--framework', 'fastapi', '--output', both]);
    expect([again.code, again.err]).toEqual([2, expect.stringContaining('exists: remove it or pass --force')]);
    expect((await cli(['generate', example, '--framework', 'fastapi', '--output', both, '--force'])).code).toBe(0);
  });
});
