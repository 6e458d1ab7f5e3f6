// The `agentspec-operator` command as real processes: its flags, running without a control plane, leader election
// between two processes (a standby takes over when the leader is killed; SIGTERM releases the lease), and an
// apiserver that stops and comes back while the operator runs.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CoordinationV1Api, CustomObjectsApi, AppsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  installCrds,
  ManagedProcess,
  recordFigures,
  startTestCluster,
  waitFor,
  type TestCluster,
} from '../src/index.js';
import { testKubeConfig, testKubeconfigPath, testNamespace } from '../src/vitest/test-context.js';

const root = resolve(import.meta.dirname, '..', '..');
const bin = join(root, 'operator', 'dist', 'bin', 'operator.js');
const run = promisify(execFile);
const coach = parse(readFileSync(join(root, 'examples', 'fitness-coach', 'agent.yaml'), 'utf8')) as {
  spec: Record<string, unknown>;
};

interface Operator {
  process: ManagedProcess;
  health: string;
  metrics: string;
  metric(name: string): Promise<number>;
}
const started: ManagedProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
});

async function startOperator(kubeconfig: string, namespace: string, extra: string[] = []): Promise<Operator> {
  const [healthPort, metricsPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'agentspec-operator-'));
  const process_ = new ManagedProcess({
    name: 'agentspec-operator',
    command: process.execPath,
    args: [
      bin,
      `--kubeconfig=${kubeconfig}`,
      `--namespace=${namespace}`,
      `--leader-election-namespace=${namespace}`,
      `--health-addr=127.0.0.1:${healthPort}`,
      `--metrics-addr=127.0.0.1:${metricsPort}`,
      ...extra,
    ],
    logPath: join(dir, 'operator.log'),
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' },
  });
  started.push(process_);
  const health = `http://127.0.0.1:${healthPort}`;
  const metrics = `http://127.0.0.1:${metricsPort}`;
  await process_.waitUntil('ready', async () => (await fetch(`${health}/readyz`)).ok, 30_000);
  return {
    process: process_,
    health,
    metrics,
    async metric(name) {
      const text = await (await fetch(`${metrics}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.split(' ').at(-1));
      return sum;
    },
  };
}

const agentsApi = (kc: KubeConfig) => kc.makeApiClient(CustomObjectsApi);
const createAgent = (kc: KubeConfig, namespace: string, name: string, spec = coach.spec) =>
  agentsApi(kc).createNamespacedCustomObject({
    group: 'agentspec.io',
    version: 'v1',
    namespace,
    plural: 'agents',
    body: { apiVersion: 'agentspec.io/v1', kind: 'Agent', metadata: { name }, spec },
  });
const getAgent = async (kc: KubeConfig, namespace: string, name: string) =>
  (await agentsApi(kc).getNamespacedCustomObject({
    group: 'agentspec.io',
    version: 'v1',
    namespace,
    plural: 'agents',
    name,
  })) as {
    metadata: { generation: number; finalizers?: string[] };
    status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason: string }[] };
  };
const reconciled = async (kc: KubeConfig, namespace: string, name: string): Promise<boolean> => {
  const agent = await getAgent(kc, namespace, name).catch(() => undefined);
  return agent !== undefined && agent.status?.observedGeneration === agent.metadata.generation;
};

describe('agentspec-operator command', () => {
  beforeAll(() => installCrds(testKubeconfigPath()));

  it('prints its flags with --help and refuses a bad flag with status 2, naming it', async () => {
    const help = await run(process.execPath, [bin, '--help']);
    expect(help.stdout).toContain('--leader-elect');
    expect(help.stdout).toContain('AGENTSPEC_CONTROL_PLANE_URL');
    const bad = await run(process.execPath, [bin, '--workers=many']).catch(
      (err: { code: number; stderr: string }) => err,
    );
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toContain('--workers (WORKERS) must be a whole number');
  });

  it('runs with only a kubeconfig: no control plane, so no finalizer and Registered=Unknown', async () => {
    const kc = testKubeConfig();
    const operator = await startOperator(testKubeconfigPath(), testNamespace(), ['--leader-elect=false']);
    await createAgent(kc, testNamespace(), 'solo');
    await waitFor('the Agent to be reconciled', () => reconciled(kc, testNamespace(), 'solo'));
    const agent = await getAgent(kc, testNamespace(), 'solo');
    expect(agent.metadata.finalizers ?? []).toEqual([]);
    expect(agent.status?.conditions?.find((c) => c.type === 'Registered')).toMatchObject({
      status: 'Unknown',
      reason: 'ControlPlaneNotConfigured',
    });
    await operator.process.stop();
  });

  it('elects one leader of two; the standby takes over within about 15 s of the leader being killed', async () => {
    const kc = testKubeConfig();
    const ns = testNamespace();
    const election = ['--leader-elect=true', '--leader-election-id=e2e-operator'];
    const first = await startOperator(testKubeconfigPath(), ns, election);
    await waitFor('a leader', async () => (await first.metric('leader_election_master_status')) === 1);
    const second = await startOperator(testKubeconfigPath(), ns, election);
    await createAgent(kc, ns, 'led');
    await waitFor('the leader to reconcile', () => reconciled(kc, ns, 'led'));
    expect(await second.metric('leader_election_master_status')).toBe(0);
    expect(await second.metric('controller_runtime_reconcile_total')).toBe(0);
    expect(await first.metric('controller_runtime_reconcile_total')).toBeGreaterThan(0);

    await first.process.kill();
    const killedAt = Date.now();
    await waitFor('the standby to lead', async () => (await second.metric('leader_election_master_status')) === 1, {
      timeoutMs: 40_000,
    });
    // Lease 15 s, retry 2 s: about 17 s on an idle machine. A figure, not an assertion: a loaded machine may be slower.
    recordFigures('faults', {
      suite: 'leader operator SIGKILLed: the standby leads and reconciles',
      'takeover (ms)': Date.now() - killedAt,
    });
    await createAgent(kc, ns, 'after-takeover');
    await waitFor('the new leader to reconcile', () => reconciled(kc, ns, 'after-takeover'));

    // SIGTERM gives the lease up at once.
    await second.process.stop();
    const lease = await kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: 'e2e-operator', namespace: ns });
    expect(lease.spec?.holderIdentity ?? '').toBe('');
  }, 120_000);
});

describe('agentspec-operator and an apiserver that goes away', () => {
  let cluster: TestCluster | undefined;
  afterAll(async () => cluster?.stop());

  it('restarts its watches and reconciles what changed once the apiserver is back', async () => {
    cluster = await startTestCluster();
    await installCrds(cluster.kubeconfigPath);
    const kc = cluster.kubeConfig;
    const ns = 'default';
    const operator = await startOperator(cluster.kubeconfigPath, ns, ['--leader-elect=false']);
    await createAgent(kc, ns, 'before');
    await waitFor('the first Agent', () => reconciled(kc, ns, 'before'));

    const restartsBefore = await operator.metric('agentspec_operator_watch_restarts_total');
    await cluster.stopComponent('kube-apiserver');
    // The outage lasts until the operator has seen its watches fail (and retried them), not a fixed time.
    await waitFor(
      'the operator to see its watches cut',
      async () => (await operator.metric('agentspec_operator_watch_restarts_total').catch(() => 0)) > restartsBefore,
      { timeoutMs: 60_000 },
    );
    expect(operator.process.running).toBe(true);
    await cluster.startComponent('kube-apiserver');

    await createAgent(kc, ns, 'after');
    await agentsApi(kc).patchNamespacedCustomObject({
      group: 'agentspec.io',
      version: 'v1',
      namespace: ns,
      plural: 'agents',
      name: 'before',
      body: [{ op: 'replace', path: '/spec/description', value: 'Changed after the outage.' }],
    });
    await waitFor(
      'both changes to be reconciled',
      async () => (await reconciled(kc, ns, 'after')) && (await reconciled(kc, ns, 'before')),
      {
        timeoutMs: 60_000,
      },
    );
    expect((await getAgent(kc, ns, 'before')).status?.observedGeneration).toBe(2);
    const deployment = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: 'after', namespace: ns });
    expect(deployment.metadata?.ownerReferences?.[0]?.name).toBe('after');
    expect(await operator.metric('agentspec_operator_watch_restarts_total')).toBeGreaterThan(0);
    await operator.process.stop();
  }, 180_000);
});
