// The whole product through its public interfaces: the chart installed with the user's flags (on the test node:
// operator, webhook, control plane and the bundled PostgreSQL as real pods of the images built here; without one:
// local processes with the ServiceAccounts' rights and the pod runner), then
// `kubectl apply -f examples/fitness-coach/agent.yaml` in a namespace enforcing Pod Security `restricted` — the
// webhook injects registration into the pod, the pod runs (agent + sidecar), the sidecar registers and heartbeats
// through the control plane's Service, `kubectl get agents` shows the grade; scaling, pods replaced, deletion, a
// remote agent outside the cluster, a tenant, and the secrets audit.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifest, runCli, scopedRegistrationKey, startPushMode, stopPushMode } from '@agentspec/sdk';
import {
  auditSecrets,
  kubectl,
  describePod,
  recordFigures,
  startPlatform,
  startPodPlatform,
  testbinPaths,
  waitFor,
  writeImpersonatingKubeconfig,
  type RunningPlatform,
} from '../src/index.js';
import {
  testDatabase,
  testKubeConfig,
  testKubeconfigPath,
  testNamespace,
  testNode,
} from '../src/vitest/test-context.js';

const root = resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const release = () => testNamespace();
const agents = () => `${testNamespace()}-agents`;
let platform: RunningPlatform;
const node = testNode();
/** Every control-plane and sidecar response body the scenario read, and every token it was given: the secrets audit. */
const responses: string[] = [];
const issuedTokens: string[] = [];

interface AgentView {
  metadata: { generation: number };
  status?: {
    phase?: string;
    grade?: string;
    score?: number;
    instances?: number;
    instancesTotal?: number;
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason: string }[];
  };
}
const getAgent = async (name = 'fitness-coach') =>
  (await custom.getNamespacedCustomObject({
    group: 'agentspec.io',
    version: 'v1',
    namespace: agents(),
    plural: 'agents',
    name,
  })) as AgentView;
/** Waits until the Agent shows the sidecar's figures with Registered=True. */
const waitForRegistered = (name: string, gap: { score: number }) =>
  waitFor(
    `Agent ${name} to show the control plane figures with Registered=True`,
    async () => {
      const agent = await getAgent(name);
      return (
        agent.status?.score === gap.score &&
        agent.status.conditions?.some((c) => c.type === 'Registered' && c.status === 'True') === true
      );
    },
    { timeoutMs: 90_000 },
  );
const cpGet = async (path: string) => {
  const response = await fetch(`${platform.controlPlane.url}${path}`, {
    headers: { 'x-admin-key': platform.adminKey },
  });
  const text = await response.text();
  responses.push(text);
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
};
const gapOf = async (pod: string) => {
  const text = await (await fetch(`${await platform.sidecarUrl(agents(), pod)}/agentspec/gap`)).text();
  responses.push(text);
  return JSON.parse(text) as { score: number; grade: string };
};

beforeAll(async () => {
  // The agents' namespace enforces Pod Security `restricted`: the operator's pods (agent + sidecar) must pass it, and
  // on the test node the runtime enforces it.
  await core.createNamespace({
    body: { metadata: { name: agents(), labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
  });
  if (node.running) {
    console.log('scenario: on real pods (the test node runs every component from the images built here)');
    platform = await startPodPlatform({
      kubeconfigPath: testKubeconfigPath(),
      namespace: release(),
      imageValues: node.helmValues,
    });
  } else {
    console.log(`scenario: no node (${node.reason}): the pod runner plays the kubelet with local processes`);
    platform = await startPlatform({
      kubeconfigPath: testKubeconfigPath(),
      namespace: release(),
      agentsNamespace: agents(),
      databaseUrl: await testDatabase(),
    });
  }
}, 300_000);

afterAll(async () => {
  await platform?.stop();
  await run(testbinPaths().helm, [
    'uninstall',
    // Without a node no kubelet runs the pre-delete Job (chart.e2e.test.ts tests its command then).
    ...(node.running ? ['--wait', '--timeout=120s'] : ['--no-hooks']),
    'agentspec',
    '-n',
    release(),
    '--kubeconfig',
    testKubeconfigPath(),
  ]).catch(() => undefined);
  await core.deleteNamespace({ name: agents() }).catch(() => undefined);
});

describe('from kubectl apply to a graded, registered agent', () => {
  let firstPod = '';

  it('the release runs: on the test node every component is a Running pod in a containerd container', async () => {
    const pods = (await core.listNamespacedPod({ namespace: release() })).items;
    if (!node.running) {
      // The pod runner plays the kubelet for agent pods only: the components are local processes.
      expect(pods.every((p) => p.status?.phase !== 'Running')).toBe(true);
      return;
    }
    const components = new Set(pods.map((p) => p.metadata?.labels?.['app.kubernetes.io/component']));
    expect([...components].sort()).toEqual(['control-plane', 'operator', 'postgresql', 'webhook']);
    for (const pod of pods) {
      expect([pod.metadata?.name, pod.status?.phase]).toEqual([pod.metadata?.name, 'Running']);
      for (const container of pod.status?.containerStatuses ?? []) {
        expect(container.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
      }
    }
    console.log(await kubectl(testKubeconfigPath(), ['get', 'pods', '-A', '-o', 'wide']));
  });

  it('kubectl apply: the Pod is created with the registration injected, and the sidecar registers it', async () => {
    await kubectl(testKubeconfigPath(), [
      'apply',
      '-n',
      agents(),
      '-f',
      join(root, 'examples', 'fitness-coach', 'agent.yaml'),
    ]);
    let pod: V1Pod | undefined;
    await waitFor(
      'the Pod',
      async () => {
        pod = (
          await core.listNamespacedPod({ namespace: agents(), labelSelector: 'agentspec.io/agent-name=fitness-coach' })
        ).items[0];
        return pod !== undefined;
      },
      { timeoutMs: 60_000 },
    );
    firstPod = pod!.metadata!.name!;
    const [agentContainer, sidecar] = pod!.spec!.containers;
    const names = (c: typeof agentContainer) => (c?.env ?? []).map((e) => e.name);
    expect(names(sidecar)).toEqual(
      expect.arrayContaining([
        'AGENTSPEC_CONTROL_PLANE_URL',
        'AGENTSPEC_ADMIN_KEY',
        'AGENTSPEC_INSTANCE_ID',
        'AGENTSPEC_NAMESPACE',
        'AGENTSPEC_AGENT_NAME',
      ]),
    );
    expect(names(agentContainer)).toContain('AGENTSPEC_REGISTRAR');
    // The key goes to the sidecar, which registers; the agent container has none.
    expect(names(agentContainer)).not.toContain('AGENTSPEC_ADMIN_KEY');
    expect(JSON.stringify(pod)).not.toContain(platform.adminKey);
    // The namespace's Secret holds its registration key, not the admin key.
    const copy = await core.readNamespacedSecret({ name: 'agentspec-control-plane', namespace: agents() });
    expect(Buffer.from(copy.data?.['apiKey'] ?? '', 'base64').toString()).toBe(
      scopedRegistrationKey(platform.adminKey, agents()),
    );

    // The sidecar registered the pod's instance under the Agent's name and namespace.
    await waitFor(
      'the instance to register',
      async () => (await cpGet(`/api/v1/namespaces/${agents()}/agents/fitness-coach`)).status === 200,
      { timeoutMs: 90_000 },
    ).catch(async (err: Error) => {
      const now = await core.readNamespacedPod({ name: firstPod, namespace: agents() }).catch(() => undefined);
      throw new Error(`${err.message}; pod ${firstPod}: ${now ? describePod(now) : 'gone'}`);
    });
    const view = await cpGet(`/api/v1/namespaces/${agents()}/agents/fitness-coach`);
    expect(view.body['instances']).toEqual([expect.objectContaining({ instanceId: firstPod, runtime: 'k8s' })]);
  }, 120_000);

  it('kubectl get agents shows the phase, and the grade and score the sidecar reports, with Registered=True', async () => {
    const gap = await gapOf(firstPod);
    await waitForRegistered('fitness-coach', gap);
    const agent = await getAgent();
    expect(agent.status).toMatchObject({ grade: gap.grade, score: gap.score, instances: 1 });
    const table = await kubectl(testKubeconfigPath(), ['get', 'agents', '-n', agents()]);
    expect(table).toMatch(/NAME\s+PHASE\s+GRADE\s+SCORE/);
    expect(table).toMatch(new RegExp(`fitness-coach\\s+${agent.status?.phase}\\s+${gap.grade}\\s+${gap.score}`));
  }, 90_000);

  it("the sidecar keeps connected mode's WebSocket: transport ws, and agentspec probe returns its live report", async () => {
    await waitFor(
      'the instance on the WebSocket',
      async () => {
        const res = await fetch(`${platform.controlPlane.url}/api/v1/agents/get_connection`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-admin-key': platform.adminKey },
          body: JSON.stringify({ instance_id: firstPod, namespace: agents() }),
        });
        const text = await res.text();
        responses.push(text);
        return (JSON.parse(text) as { transport?: string }).transport === 'ws';
      },
      { timeoutMs: 60_000 },
    );
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    const code = await runCli(
      ['probe', `${agents()}/fitness-coach`, '--control-plane', platform.controlPlane.url, '--timeout', '10'],
      io,
      { AGENTSPEC_ADMIN_KEY: platform.adminKey },
    );
    responses.push(out.join('\n'));
    expect(out.join('\n')).toMatch(new RegExp(`^${firstPod}: ok in \\d+ ms — health [\\w-]+, score \\d+$`, 'm'));
    expect(code).toBe(0);
  }, 90_000);

  it('scaled to 2 replicas: two registered instances that do not revoke each other', async () => {
    await custom.patchNamespacedCustomObject({
      group: 'agentspec.io',
      version: 'v1',
      namespace: agents(),
      plural: 'agents',
      name: 'fitness-coach',
      body: [{ op: 'replace', path: '/spec/deployment/replicas', value: 2 }],
    });
    await waitFor(
      'two instances',
      async () =>
        (
          (await cpGet(`/api/v1/namespaces/${agents()}/agents/fitness-coach`)).body['instances'] as
            unknown[] | undefined
        )?.length === 2,
      { timeoutMs: 90_000 },
    );
    // Both keep heartbeating with their own tokens: both lastSeen values move.
    const seen = async () =>
      (
        (await cpGet(`/api/v1/namespaces/${agents()}/agents/fitness-coach`)).body['instances'] as {
          instanceId: string;
          lastSeen: string;
        }[]
      ).map((i) => [i.instanceId, i.lastSeen] as const);
    const before = new Map(await seen());
    await waitFor(
      'both instances to heartbeat again',
      async () => (await seen()).every(([id, last]) => last !== null && last !== before.get(id)),
      { timeoutMs: 30_000 },
    );
    await waitFor('the Agent to count 2 instances', async () => (await getAgent()).status?.instances === 2, {
      timeoutMs: 30_000,
    });
  }, 150_000);

  it('when the pods are replaced, the old instances go offline, then away; the Agent counts only the live ones', async () => {
    type Instance = { instanceId: string; connectionStatus: string };
    const instances = async () =>
      (await cpGet(`/api/v1/namespaces/${agents()}/agents/fitness-coach`)).body['instances'] as Instance[];
    const old = (await instances()).map((i) => i.instanceId);
    expect(old).toHaveLength(2);
    await platform.collectLogs([release(), agents()]); // for the secrets audit: these pods' logs go with them
    // The pods are replaced (as by a node drain, an eviction or a rollout): the old ones stop, their sidecars fall
    // silent. (A spec change would roll them too, but this agent never turns Ready without its Redis and PostgreSQL,
    // and Kubernetes rightly halts a rollout whose new pods are not Ready.)
    for (const name of old) {
      await core.deleteNamespacedPod({ name, namespace: agents(), gracePeriodSeconds: 0 });
    }
    const live = (list: Instance[]) =>
      list.filter((i) => !old.includes(i.instanceId) && i.connectionStatus !== 'offline');
    let seen: Instance[] = [];
    await waitFor(
      'the new pods live and the old ones offline (3 intervals of 2 s)',
      async () => {
        const list = (seen = await instances());
        const stale = list.filter((i) => old.includes(i.instanceId));
        return live(list).length === 2 && stale.length === 2 && stale.every((i) => i.connectionStatus === 'offline');
      },
      { timeoutMs: 120_000 },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; old ${old.join(', ')}; last seen ${JSON.stringify(seen)}`);
    });
    await waitFor(
      'the Agent to count 2 live of 4 instances',
      async () => {
        const status = (await getAgent()).status;
        return status?.instances === 2 && status.instancesTotal === 4;
      },
      { timeoutMs: 30_000 },
    );
    // After the retention (20 s here) the old instances are deleted; the Agent keeps the new ones only.
    await waitFor(
      'the old instances deleted',
      async () => {
        const list = await instances();
        return list.length === 2 && live(list).length === 2;
      },
      { timeoutMs: 90_000 },
    );
    await waitFor('the Agent to count 2 of 2', async () => (await getAgent()).status?.instancesTotal === 2, {
      timeoutMs: 30_000,
    });
    const registered = (await getAgent()).status?.conditions?.find((c) => c.type === 'Registered');
    expect(registered).toMatchObject({ status: 'True', message: '2 live instances' });
  }, 300_000);

  it('deleting the Agent deregisters it (its tokens get 401) and removes everything it owned', async () => {
    // A token of this agent, as an instance holds it.
    const registered = await fetch(`${platform.controlPlane.url}/api/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-key': platform.adminKey },
      body: JSON.stringify({ agentName: 'fitness-coach', namespace: agents(), instanceId: 'probe', runtime: 'k8s' }),
    });
    const { apiKey } = (await registered.json()) as { apiKey: string };
    issuedTokens.push(apiKey);
    await platform.collectLogs([release(), agents()]);
    await kubectl(testKubeconfigPath(), [
      'delete',
      '-n',
      agents(),
      '-f',
      join(root, 'examples', 'fitness-coach', 'agent.yaml'),
      '--wait=true',
    ]);
    const beat = await fetch(`${platform.controlPlane.url}/api/v1/heartbeat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ health: { status: 'healthy' }, gap: { score: 90 } }),
    });
    expect(beat.status).toBe(401);
    await waitFor(
      'every owned object to be gone',
      async () => {
        const selector = { namespace: agents(), labelSelector: 'agentspec.io/agent-name=fitness-coach' };
        const [d, s, c, p] = await Promise.all([
          apps.listNamespacedDeployment(selector),
          core.listNamespacedService(selector),
          core.listNamespacedConfigMap(selector),
          core.listNamespacedPod(selector),
        ]);
        return d.items.length + s.items.length + c.items.length + p.items.length === 0;
      },
      { timeoutMs: 90_000, intervalMs: 1_000 },
    );
  }, 150_000);

  it('a Python agent (FastAPI + LangGraph, the Python SDK) is Registered with a grade, and its LangGraph headers reach the sidecar', async () => {
    await kubectl(testKubeconfigPath(), [
      'apply',
      '-n',
      agents(),
      '-f',
      join(root, 'examples', 'python-agent', 'agent.yaml'),
    ]);
    const pod = await waitFor(
      'the python-agent pod ready',
      async () =>
        (
          await core.listNamespacedPod({ namespace: agents(), labelSelector: 'agentspec.io/agent-name=python-agent' })
        ).items.find((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))?.metadata
          ?.name,
      { timeoutMs: 120_000 },
    );
    const gap = await gapOf(pod);
    await waitForRegistered('python-agent', gap);
    expect((await getAgent('python-agent')).status?.grade).toBe(gap.grade);
    // The sidecar's report comes from the agent's own /agentspec/health, served by the Python SDK.
    const health = await (await fetch(`${await platform.sidecarUrl(agents(), pod)}/agentspec/health`)).text();
    responses.push(health);
    expect(JSON.parse(health)).toMatchObject({ agentName: 'python-agent' });

    // A request through the sidecar's proxy: LangGraph runs the graph, AgentSpecMiddleware reports what it did in
    // X-AgentSpec-* headers, and the sidecar keeps them in its audit ring and strips them from the response.
    const answer = await fetch(`${await platform.proxyUrl(agents(), pod)}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ question: 'When are deploys? Reply to me@example.com' }),
    });
    expect(answer.status).toBe(200);
    expect([...answer.headers.keys()].filter((h) => h.startsWith('x-agentspec-'))).toEqual([]);
    const { requestId } = (await answer.json()) as { requestId: string };
    const audit = (await (await fetch(`${await platform.sidecarUrl(agents(), pod)}/agentspec/audit`)).json()) as {
      entries: { requestId: string; toolsCalled?: string[]; guardrailsInvoked?: string[] }[];
    };
    const entry = audit.entries.find((e) => e.requestId === requestId);
    expect(entry).toMatchObject({ toolsCalled: ['search-notes', 'summarize'], guardrailsInvoked: ['pii-detector'] });

    await platform.collectLogs([release(), agents()]);
    await kubectl(testKubeconfigPath(), [
      'delete',
      '-n',
      agents(),
      '-f',
      join(root, 'examples', 'python-agent', 'agent.yaml'),
      '--wait=true',
    ]);
  }, 300_000);

  it('a remote agent outside the cluster appears through agentspec register and push mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'remote-agent-'));
    await run(
      process.execPath,
      [
        join(root, 'sdk', 'typescript', 'dist', 'bin', 'agentspec.js'),
        'register',
        join(root, 'examples', 'minimal', 'agent.yaml'),
        '--control-plane',
        platform.controlPlane.url,
        '--runtime',
        'docker',
        '--instance-id',
        'laptop-1',
      ],
      { cwd: dir, env: { ...process.env, AGENTSPEC_ADMIN_KEY: platform.adminKey } },
    );
    const vars = Object.fromEntries(
      readFileSync(join(dir, '.env.agentspec'), 'utf8')
        .split('\n')
        .filter((l) => /^AGENTSPEC_/.test(l))
        .map((l) => [l.split('=')[0], l.slice(l.indexOf('=') + 1)]),
    );
    issuedTokens.push(vars['AGENTSPEC_KEY'] ?? '');
    const { manifest, baseDir } = loadManifest(join(root, 'examples', 'minimal', 'agent.yaml'));
    startPushMode({ manifest, baseDir, url: vars['AGENTSPEC_URL'] ?? '', apiKey: vars['AGENTSPEC_KEY'] ?? '' });
    try {
      await waitFor(
        'the remote agent in the list',
        async () =>
          (
            (await cpGet('/api/v1/namespaces/-/agents')).body['items'] as {
              name: string;
              runtime: string;
              score: number | null;
            }[]
          ).some((a) => a.name === manifest.metadata.name && a.runtime === 'docker' && a.score !== null),
        { timeoutMs: 30_000 },
      );
    } finally {
      stopPushMode();
    }
  });

  it('a tenant who may only create pods and Agents in team-a gets a key for team-a and nothing more', async () => {
    const teamA = `${agents()}-team-a`;
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespace({ body: { metadata: { name: teamA } } });
    try {
      await rbac.createNamespacedRole({
        namespace: teamA,
        body: {
          metadata: { name: 'tenant' },
          rules: [
            { apiGroups: [''], resources: ['pods'], verbs: ['create', 'get'] },
            { apiGroups: ['agentspec.io'], resources: ['agents'], verbs: ['create', 'get'] },
          ],
        },
      });
      await rbac.createNamespacedRoleBinding({
        namespace: teamA,
        body: {
          metadata: { name: 'tenant' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tenant' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'tenant-a' }],
        },
      });
      const tenantConfig = new KubeConfig();
      tenantConfig.loadFromFile(
        writeImpersonatingKubeconfig(testKubeconfigPath(), 'tenant-a', join(platform.dir, 'tenant-a.kubeconfig')),
      );
      // The tenant's pod, labelled for injection, with an agent container and a sidecar.
      const pod = await tenantConfig.makeApiClient(CoreV1Api).createNamespacedPod({
        namespace: teamA,
        body: {
          metadata: {
            name: 'tenant-agent',
            labels: { 'agentspec.io/inject': 'true', 'agentspec.io/agent-name': 'tenant' },
          },
          spec: {
            containers: [
              { name: 'agent', image: 'registry.test/tenant-agent:1' },
              { name: 'agentspec-sidecar', image: 'registry.test/agentspec-sidecar:0.1.0' },
            ],
          },
        },
      });
      const [agentContainer, sidecar] = pod.spec?.containers ?? [];
      const names = (c: typeof agentContainer) => (c?.env ?? []).map((e) => e.name);
      expect(names(agentContainer)).not.toContain('AGENTSPEC_ADMIN_KEY');
      expect(sidecar?.env?.find((e) => e.name === 'AGENTSPEC_ADMIN_KEY')?.valueFrom?.secretKeyRef?.name).toBe(
        'agentspec-control-plane',
      );
      // The key the sidecar gets: team-a's registration key, which the operator keeps there for the injected pod.
      const key = await waitFor(
        'the registration key in team-a',
        async () => {
          const copy = await core
            .readNamespacedSecret({ name: 'agentspec-control-plane', namespace: teamA })
            .catch(() => undefined);
          return copy && Buffer.from(copy.data?.['apiKey'] ?? '', 'base64').toString();
        },
        { timeoutMs: 60_000 },
      );
      expect(key).toBe(scopedRegistrationKey(platform.adminKey, teamA));
      const url = platform.controlPlane.url;
      const registerIn = (namespace: string) =>
        fetch(`${url}/api/v1/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-admin-key': key },
          body: JSON.stringify({ agentName: 'tenant', namespace, instanceId: 'tenant-agent', runtime: 'k8s' }),
        });
      const mine = await registerIn(teamA);
      expect(mine.status).toBe(201);
      issuedTokens.push(((await mine.json()) as { apiKey: string }).apiKey);
      expect((await registerIn(agents())).status).toBe(403);
      const withKey = { 'x-admin-key': key };
      for (const path of [
        '/api/v1/agents',
        '/api/v1/namespaces/-/agents',
        `/api/v1/namespaces/${agents()}/agents/fitness-coach`,
        `/api/v1/namespaces/${teamA}/agents/tenant/health`,
        '/api/v1/events',
      ]) {
        expect([path, (await fetch(`${url}${path}`, { headers: withKey })).status]).toEqual([path, 403]);
      }
      for (const namespace of [teamA, agents()]) {
        const del = await fetch(`${url}/api/v1/namespaces/${namespace}/agents/tenant`, {
          method: 'DELETE',
          headers: withKey,
        });
        expect(del.status).toBe(403);
      }
      // And the tenant cannot read the Secret itself (only its pods can, through the secretKeyRef).
      await expect(
        tenantConfig
          .makeApiClient(CoreV1Api)
          .readNamespacedSecret({ name: 'agentspec-control-plane', namespace: teamA }),
      ).rejects.toMatchObject({ code: 403 });
    } finally {
      await core.deleteNamespace({ name: teamA }).catch(() => undefined);
    }
  }, 120_000);

  it('secrets audit: no stored object, log line or response holds the admin key, the JWT secret or a token', async () => {
    const result = await auditSecrets({
      kubeconfigPath: testKubeconfigPath(),
      secrets: {
        'the admin key': platform.adminKey,
        'the JWT secret': platform.jwtSecret,
        ...Object.fromEntries(issuedTokens.map((t, i) => [`issued token #${i + 1}`, t])),
      },
      logs: await platform.collectLogs([release(), agents()]),
      responses,
      // Only the chart's Secret in the release namespace holds the admin key: the operator's copies in agent
      // namespaces hold each namespace's registration key, which is no secret of this list, so they are scanned too.
      keyHolders: [`${platform.namespace}/agentspec-control-plane`],
    });
    recordFigures('secrets', {
      suite: 'secrets audit (end of the e2e scenario)',
      cases: `${result.scanned.objects} objects, ${result.scanned.logFiles} logs (${Math.round(result.scanned.logBytes / 1024)} KiB), ${result.scanned.responses} responses`,
      'secrets found': result.findings.length,
    });
    expect(result.scanned.objects).toBeGreaterThan(50);
    expect(result.scanned.logFiles).toBeGreaterThanOrEqual(4);
    expect(result.findings).toEqual([]);
  }, 60_000);
});
