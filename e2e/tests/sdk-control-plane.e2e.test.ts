// The SDK against the real control plane (its built command on the run's PostgreSQL): auto-registration inside
// pods, replicas that do not revoke each other, and a remote agent using `agentspec register` and push mode.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentSpecReporter, loadManifest, startPushMode, stopPushMode } from '@agentspec/sdk';
import { startControlPlaneProcess, waitFor, type ControlPlaneProcess } from '../src/index.js';
import { testDatabase } from '../src/vitest/test-context.js';

const root = resolve(import.meta.dirname, '..', '..');
const adminKey = 'e2e-admin-key-3b9c';
let controlPlane: ControlPlaneProcess | undefined;
let url = '';

interface AgentSummary {
  name: string;
  namespace: string;
  runtime: string;
  phase: string;
  score: number;
  instances: number;
  lastSeen: string | null;
}

async function agents(base = url): Promise<AgentSummary[]> {
  const res = await fetch(`${base}/api/v1/namespaces/-/agents`, { headers: { 'x-admin-key': adminKey } });
  return ((await res.json()) as { items: AgentSummary[] }).items;
}

/** `agentspec register` in a fresh directory; the variables it wrote to .env.agentspec. */
async function registerRemote(base: string, instanceId: string): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'remote-agent-'));
  await promisify(execFile)(
    process.execPath,
    [
      join(root, 'sdk', 'typescript', 'dist', 'bin', 'agentspec.js'),
      'register',
      join(root, 'examples', 'fitness-coach', 'agent.yaml'),
      '--control-plane',
      base,
      '--runtime',
      'bedrock',
      '--instance-id',
      instanceId,
    ],
    { cwd: dir, env: { ...process.env, AGENTSPEC_ADMIN_KEY: adminKey } },
  );
  return Object.fromEntries(
    readFileSync(join(dir, '.env.agentspec'), 'utf8')
      .split('\n')
      .filter((l) => /^AGENTSPEC_/.test(l))
      .map((l) => [l.split('=')[0]!, l.slice(l.indexOf('=') + 1)]),
  );
}

beforeAll(async () => {
  controlPlane = await startControlPlaneProcess({ databaseUrl: await testDatabase(), adminKey });
  url = controlPlane.url;
});
afterAll(() => controlPlane?.stop());

describe('SDK and control plane', () => {
  it('registers pods through the injected variables; two replicas keep their own tokens', async () => {
    const { manifest, baseDir } = loadManifest(join(root, 'examples', 'minimal', 'agent.yaml'));
    const pod = (name: string) =>
      new AgentSpecReporter({
        manifest,
        baseDir,
        refreshIntervalMs: 60_000,
        env: {
          AGENTSPEC_CONTROL_PLANE_URL: url,
          AGENTSPEC_ADMIN_KEY: adminKey,
          AGENTSPEC_AGENT_NAME: 'hello-agent',
          AGENTSPEC_NAMESPACE: 'e2e',
          AGENTSPEC_INSTANCE_ID: name,
          KUBERNETES_SERVICE_HOST: '10.0.0.1',
        },
      }).start();
    const replicas = [pod('hello-agent-7d9f-aaaaa'), pod('hello-agent-7d9f-bbbbb')];
    try {
      await waitFor(
        'both replicas to heartbeat three times',
        async () => replicas.every((r) => (r.registration?.status.heartbeats ?? 0) >= 3),
        { timeoutMs: 20_000 },
      );
      expect(replicas.map((r) => r.registration?.status.registrations)).toEqual([1, 1]);
      const agent = (await agents()).find((a) => a.namespace === 'e2e' && a.name === 'hello-agent');
      // The minimal example: OPENAI_API_KEY is not set here, so health is unhealthy; its audit scores 50.
      expect(agent).toMatchObject({ runtime: 'k8s', instances: 2, phase: 'Unhealthy', score: 50 });
    } finally {
      for (const r of replicas) r.stop();
    }
  });

  it('lists a remote agent that used agentspec register and push mode', async () => {
    const vars = await registerRemote(url, 'lambda-1');
    const { manifest, baseDir } = loadManifest(join(root, 'examples', 'fitness-coach', 'agent.yaml'));
    startPushMode({ manifest, baseDir, url: vars['AGENTSPEC_URL'] ?? '', apiKey: vars['AGENTSPEC_KEY'] ?? '' });
    try {
      const agent = await waitFor(
        'the pushed report',
        async () => (await agents()).find((a) => a.name === 'fitness-coach' && a.score !== null),
        { timeoutMs: 20_000 },
      );
      expect(agent).toMatchObject({ namespace: 'default', runtime: 'bedrock', score: 100, instances: 1 });
    } finally {
      stopPushMode();
    }
  });

  it('keeps a registered remote agent heartbeating past its token lifetime: push mode refreshes the key', async () => {
    // Tokens live 60 s here; push mode swaps each at two thirds of its lifetime. Three minutes is three lifetimes.
    const shortLived = await startControlPlaneProcess({
      databaseUrl: await testDatabase(),
      adminKey,
      env: { AGENTSPEC_TOKEN_TTL_SECONDS: '60' },
    });
    const refreshed: string[] = [];
    try {
      const vars = await registerRemote(shortLived.url, 'long-runner');
      const { manifest, baseDir } = loadManifest(join(root, 'examples', 'fitness-coach', 'agent.yaml'));
      const started = Date.now();
      startPushMode({
        manifest,
        baseDir,
        url: vars['AGENTSPEC_URL'] ?? '',
        apiKey: vars['AGENTSPEC_KEY'] ?? '',
        intervalMs: 2_000,
        onKeyRefreshed: (key) => refreshed.push(key),
      });
      const agent = await waitFor(
        'a heartbeat three minutes after the first token was issued',
        async () => {
          const found = (await agents(shortLived.url)).find((a) => a.name === 'fitness-coach');
          return found && Date.parse(found.lastSeen ?? '') - started >= 180_000 && found;
        },
        { timeoutMs: 240_000, intervalMs: 1_000 },
      );
      expect(agent).toMatchObject({ phase: expect.any(String), instances: 1 });
      const metrics = await (await fetch(`${shortLived.url}/metrics`)).text();
      expect(metrics).not.toMatch(/agentspec_heartbeats_total\{result="unauthorized"\} [1-9]/);
      expect(Number(/agentspec_heartbeats_total\{result="accepted"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(
        60,
      );
      expect(refreshed.length).toBeGreaterThanOrEqual(4);
      expect(new Set(refreshed).size).toBe(refreshed.length);
    } finally {
      stopPushMode();
      await shortLived.stop();
    }
  }, 300_000);
});
