// The operator (informers, queue, reconcile, finalizer, Secret copies, control-plane status) on the real test
// cluster with a real control plane process on the run's PostgreSQL. Scoped to this file's namespace.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { scopedRegistrationKey } from '@agentspec/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrds, kubectl, startControlPlaneProcess, waitFor, type ControlPlaneProcess } from '@agentspec/e2e';
import { testDatabase, testKubeConfig, testKubeconfigPath, testNamespace } from '@agentspec/e2e/vitest';
import { loadOperatorConfig } from './config.js';
import { startOperator, type RunningOperator } from './operator.js';

const kc = testKubeConfig();
const custom = kc.makeApiClient(CustomObjectsApi);
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
const coach = parse(
  readFileSync(resolve(import.meta.dirname, '..', '..', 'examples', 'fitness-coach', 'agent.yaml'), 'utf8'),
) as { spec: Record<string, unknown> & { deployment: Record<string, unknown> } };

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}
interface Agent {
  metadata: { generation: number; resourceVersion: string; uid: string; finalizers?: string[] };
  status?: {
    observedGeneration?: number;
    phase?: string;
    grade?: string;
    score?: number;
    source?: string;
    instances?: number;
    lastHeartbeat?: string;
    replicas?: number;
    readyReplicas?: number;
    conditions?: Condition[];
  };
}

const ns = () => testNamespace();
const releaseNs = () => `${testNamespace()}-release`;
const ref = (name: string) => ({ group: 'agentspec.io', version: 'v1', namespace: ns(), plural: 'agents', name });
const getAgent = async (name: string) => (await custom.getNamespacedCustomObject(ref(name))) as Agent;
const condition = (agent: Agent, type: string) => agent.status?.conditions?.find((c) => c.type === type);
const createAgent = (name: string, spec: Record<string, unknown>) =>
  custom.createNamespacedCustomObject({
    group: 'agentspec.io',
    version: 'v1',
    namespace: ns(),
    plural: 'agents',
    body: { apiVersion: 'agentspec.io/v1', kind: 'Agent', metadata: { name }, spec },
  });
const gone = async (read: () => Promise<unknown>): Promise<boolean> =>
  read().then(
    () => false,
    (err: { code?: number }) => err.code === 404,
  );

let cp: ControlPlaneProcess;
let operator: RunningOperator;
/** The token of the coach's instance, registered by the first test. */
let apiKey = '';

beforeAll(async () => {
  await installCrds(testKubeconfigPath());
  await core.createNamespace({ body: { metadata: { name: releaseNs() } } });
  await core.createNamespacedSecret({
    namespace: releaseNs(),
    body: {
      metadata: { name: 'agentspec-control-plane' },
      stringData: { apiKey: 'operator-int-admin-key', jwtSecret: 'not-copied-0123456789abcdef0123456789' },
    },
  });
  cp = await startControlPlaneProcess({ databaseUrl: await testDatabase(), adminKey: 'operator-int-admin-key' });
  const config = loadOperatorConfig(
    [
      `--namespace=${ns()}`,
      `--control-plane-url=${cp.url}`,
      '--health-addr=127.0.0.1:0',
      '--metrics-addr=127.0.0.1:0',
      '--leader-elect=false',
      // Figures must arrive through the event stream: the full resync is out of reach of the test.
      '--control-plane-resync-seconds=3600',
      '--deregister-timeout-seconds=6',
      `--release-namespace=${releaseNs()}`,
      '--sidecar-image=registry.test/agentspec-sidecar:0.1.0',
      '--log-level=warn',
    ],
    { AGENTSPEC_ADMIN_KEY: cp.adminKey },
  );
  operator = await startOperator({ config, kubeConfig: kc });
  await operator.synced;
  await createAgent('coach', coach.spec);
});

afterAll(async () => {
  await operator?.stop();
  await cp?.stop();
  await core.deleteNamespace({ name: releaseNs() }).catch(() => undefined);
});

let instanceId = '';

/** Registers the coach's instance (again), keeping its token in apiKey. */
async function registerCoach(): Promise<void> {
  const registered = await fetch(`${cp.url}/api/v1/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-admin-key': cp.adminKey },
    // A long interval: the instance stays live between this file's heartbeats.
    body: JSON.stringify({ agentName: 'coach', namespace: ns(), instanceId, runtime: 'k8s', intervalSeconds: 3600 }),
  });
  ({ apiKey } = (await registered.json()) as { apiKey: string });
}

/** A heartbeat of the coach's instance (minimum interval 0 on the test control plane). */
const sendHeartbeat = (body: unknown): Promise<Response> =>
  fetch(`${cp.url}/api/v1/heartbeat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });

describe('agentspec-operator', () => {
  it('is ready once its caches synced and serves controller-runtime metrics', async () => {
    expect((await fetch(`${operator.healthUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${operator.healthUrl}/healthz`)).status).toBe(200);
    await waitFor('a reconcile', async () =>
      (await (await fetch(`${operator.metricsUrl}/metrics`)).text()).includes(
        'controller_runtime_reconcile_total{controller="agent",result="success"}',
      ),
    );
    const metrics = await (await fetch(`${operator.metricsUrl}/metrics`)).text();
    for (const name of [
      'controller_runtime_reconcile_errors_total',
      'controller_runtime_reconcile_time_seconds_bucket',
      'workqueue_depth',
      'workqueue_adds_total',
      'workqueue_queue_duration_seconds_bucket',
      'workqueue_work_duration_seconds_bucket',
      'workqueue_retries_total',
      'agentspec_operator_watch_last_event_age_seconds',
      'agentspec_operator_watch_restarts_total',
    ]) {
      expect(metrics).toContain(name);
    }
  });

  it('creates exactly the ConfigMap, Deployment and Service, owned by the Agent, and adds the finalizer', async () => {
    await waitFor(
      'the workload',
      async () => !(await gone(() => apps.readNamespacedDeployment({ name: 'coach', namespace: ns() }))),
    );
    const agent = await getAgent('coach');
    const selector = { namespace: ns(), labelSelector: 'agentspec.io/agent-name=coach' };
    const [configMaps, deployments, services] = await Promise.all([
      core.listNamespacedConfigMap(selector),
      apps.listNamespacedDeployment(selector),
      core.listNamespacedService(selector),
    ]);
    expect(configMaps.items.map((o) => o.metadata?.name)).toEqual(['coach-manifest']);
    expect(deployments.items.map((o) => o.metadata?.name)).toEqual(['coach']);
    expect(services.items.map((o) => o.metadata?.name)).toEqual(['coach']);
    for (const object of [configMaps.items[0], deployments.items[0], services.items[0]]) {
      expect(object?.metadata?.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'Agent', name: 'coach', uid: agent.metadata.uid, controller: true }),
      ]);
      expect(object?.metadata?.managedFields?.map((f) => f.manager)).toContain('agentspec-operator');
    }
    const deployment = deployments.items[0]!;
    expect(deployment.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['agent', 'agentspec-sidecar']);
    expect(deployment.spec?.template.metadata?.labels).toMatchObject({
      'agentspec.io/inject': 'true',
      'agentspec.io/agent-name': 'coach',
    });
    expect(agent.metadata.finalizers).toEqual(['agentspec.io/deregister']);
  });

  it('reports status from the Deployment and from the control plane', async () => {
    await waitFor('status', async () => (await getAgent('coach')).status?.observedGeneration === 1);
    let agent = await getAgent('coach');
    expect(condition(agent, 'Ready')).toMatchObject({ status: 'False', reason: 'PodsNotReady', observedGeneration: 1 });
    // No webhook runs in this test: the Deployment's pod is admitted without the registration, and the Agent says so.
    await waitFor(
      'Registered=False (InjectionMissing)',
      async () => condition(await getAgent('coach'), 'Registered')?.reason === 'InjectionMissing',
    );
    expect(condition(await getAgent('coach'), 'Registered')).toMatchObject({
      status: 'False',
      message: expect.stringMatching(/^pod coach-\S+ was created without AGENTSPEC_CONTROL_PLANE_URL/),
    });

    // No kubelet runs here: play its part and mark the Pod ready; the ReplicaSet and Deployment controllers follow.
    let pod: V1Pod | undefined;
    await waitFor('the Pod', async () => {
      pod = (await core.listNamespacedPod({ namespace: ns(), labelSelector: 'agentspec.io/agent-name=coach' }))
        .items[0];
      return pod !== undefined;
    });
    await core.patchNamespacedPodStatus({
      name: pod!.metadata!.name!,
      namespace: ns(),
      body: [
        {
          op: 'add',
          path: '/status',
          value: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date() }] },
        },
      ],
    });
    await waitFor('Ready=True', async () => condition(await getAgent('coach'), 'Ready')?.status === 'True', {
      timeoutMs: 30_000,
    });
    agent = await getAgent('coach');
    expect(agent.status).toMatchObject({ phase: 'Running', replicas: 1, readyReplicas: 1 });

    // An instance registers and reports: the Agent shows its grade, score and source.
    instanceId = pod!.metadata!.name!;
    await registerCoach();
    expect((await sendHeartbeat({ health: { status: 'ready' }, gap: { score: 92, source: 'agent-sdk' } })).status).toBe(
      204,
    );
    // Registration and the heartbeat reach the operator as two events: wait for the state asserted, the grade.
    await waitFor(
      'Registered=True with the reported grade',
      async () => {
        const current = await getAgent('coach');
        return condition(current, 'Registered')?.status === 'True' && current.status?.score === 92;
      },
      { timeoutMs: 20_000 },
    );
    agent = await getAgent('coach');
    expect(agent.status).toMatchObject({ grade: 'A', score: 92, source: 'agent-sdk', instances: 1 });
    expect(Date.parse(agent.status?.lastHeartbeat ?? '')).toBeGreaterThan(Date.now() - 60_000);
    expect(condition(agent, 'Healthy')).toMatchObject({ status: 'True', reason: 'Healthy' });
    expect(condition(agent, 'Compliant')).toMatchObject({ status: 'True', reason: 'GradeA' });
    const events = await core.listNamespacedEvent({
      namespace: ns(),
      fieldSelector: `involvedObject.name=coach,involvedObject.kind=Agent`,
    });
    expect(events.items.map((e) => e.reason)).toEqual(expect.arrayContaining(['DeploymentReady', 'Registered']));
  });

  it('writes nothing when nothing changed', async () => {
    const writes = async () => {
      const text = await (await fetch(`${operator.metricsUrl}/metrics`)).text();
      return text
        .split('\n')
        .filter((line) => line.startsWith('agentspec_operator_writes_total{'))
        .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    };
    const before = await writes();
    expect(before).toBeGreaterThan(0);
    const reconciles = async () =>
      Number(
        /controller_runtime_reconcile_total\{controller="agent",result="success"\} (\d+)/.exec(
          await (await fetch(`${operator.metricsUrl}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    const reconciledBefore = await reconciles();
    // An annotation changes nothing the operator owns, but the watch delivers it and the Agent is reconciled.
    await custom.patchNamespacedCustomObject({
      ...ref('coach'),
      body: [{ op: 'add', path: '/metadata/annotations', value: { 'example.com/poke': '1' } }],
    });
    const registeredEvents = async () =>
      Number(
        /agentspec_operator_control_plane_events_total\{type="agent.registered"\} (\d+)/.exec(
          await (await fetch(`${operator.metricsUrl}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    const eventsBefore = await registeredEvents();
    await waitFor('a reconcile', async () => (await reconciles()) > reconciledBefore);
    // The instance registers again (its figures stay): the event reaches the operator, and nothing is written.
    await registerCoach();
    await waitFor('the registration event', async () => (await registeredEvents()) > eventsBefore);
    await waitFor('the work queue to drain', async () =>
      /workqueue_depth\{name="agent"\} 0\b/.test(await (await fetch(`${operator.metricsUrl}/metrics`)).text()),
    );
    expect(await writes()).toBe(before);
  });

  it('follows a phase change through the event stream and names the failing check', async () => {
    expect(
      (
        await sendHeartbeat({
          health: {
            status: 'unhealthy',
            checks: [{ id: 'model:openai', status: 'fail', severity: 'error', message: 'OPENAI_API_KEY is not set' }],
          },
          gap: { score: 92, source: 'agent-sdk' },
        })
      ).status,
    ).toBe(204);
    const healthy = await waitFor('Healthy=False from the event', async () => {
      const c = condition(await getAgent('coach'), 'Healthy');
      return c?.status === 'False' && c;
    });
    expect(healthy).toMatchObject({
      reason: 'Unhealthy',
      message: 'at least one instance reports unhealthy: model:openai (fail): OPENAI_API_KEY is not set',
    });
    expect((await getAgent('coach')).status?.phase).toBe('Unhealthy');
    // Back to ready for the tests that follow.
    await sendHeartbeat({ health: { status: 'ready' }, gap: { score: 92, source: 'agent-sdk' } });
    await waitFor('Healthy=True again', async () => condition(await getAgent('coach'), 'Healthy')?.status === 'True');
  });

  it('copies the registration Secret (apiKey only) into the namespace', async () => {
    await waitFor(
      'the Secret copy',
      async () => !(await gone(() => core.readNamespacedSecret({ name: 'agentspec-control-plane', namespace: ns() }))),
    );
    const copy = await core.readNamespacedSecret({ name: 'agentspec-control-plane', namespace: ns() });
    expect(Object.keys(copy.data ?? {})).toEqual(['apiKey']);
    // The namespace's registration key, derived from the admin key: never the admin key itself.
    expect(Buffer.from(copy.data?.['apiKey'] ?? '', 'base64').toString()).toBe(
      scopedRegistrationKey('operator-int-admin-key', ns()),
    );
    expect(copy.metadata?.labels).toMatchObject({ 'agentspec.io/registration-copy': 'true' });
  });

  it('reverts a hand edit of a field it owns', async () => {
    await apps.patchNamespacedDeployment({
      name: 'coach',
      namespace: ns(),
      body: [{ op: 'replace', path: '/spec/replicas', value: 5 }],
    });
    await waitFor(
      'the edit to be reverted',
      async () => (await apps.readNamespacedDeployment({ name: 'coach', namespace: ns() })).spec?.replicas === 1,
    );
  });

  it('rolls the Deployment on a spec change and reports the new generation', async () => {
    const hash = async () =>
      (await apps.readNamespacedDeployment({ name: 'coach', namespace: ns() })).spec?.template.metadata?.annotations?.[
        'agentspec.io/manifest-hash'
      ];
    const before = await hash();
    await custom.patchNamespacedCustomObject({
      ...ref('coach'),
      body: [{ op: 'replace', path: '/spec/description', value: 'Coaches runners too.' }],
    });
    await waitFor('observedGeneration 2', async () => (await getAgent('coach')).status?.observedGeneration === 2);
    expect(await hash()).not.toBe(before);
    const configMap = await core.readNamespacedConfigMap({ name: 'coach-manifest', namespace: ns() });
    expect(configMap.data?.['agent.yaml']).toContain('Coaches runners too.');
    const agent = await getAgent('coach');
    expect(agent.status?.conditions?.every((c) => c.observedGeneration === 2)).toBe(true);
  });

  it('seed 001 Rollback: `kubectl rollout undo` is reverted; each spec is a revision, rolled back with agentspec.io/rollback-to (ADR 0011)', async () => {
    const spec = structuredClone(coach.spec) as { deployment: { image: string } };
    spec.deployment.image = 'example/history:1';
    await createAgent('history', spec);
    const revisions = async () =>
      (
        await apps.listNamespacedControllerRevision({
          namespace: ns(),
          labelSelector: 'agentspec.io/agent-name=history',
        })
      ).items
        .map((r) => [Number(r.revision), (r.data as { spec: { deployment: { image: string } } }).spec.deployment.image])
        .sort((a, b) => Number(a[0]) - Number(b[0]));
    await waitFor('revision 1', async () => (await revisions()).length === 1);
    await custom.patchNamespacedCustomObject({
      ...ref('history'),
      body: [{ op: 'replace', path: '/spec/deployment/image', value: 'example/history:2' }],
    });
    await waitFor('revision 2', async () => (await revisions()).length === 2);
    expect(await revisions()).toEqual([
      [1, 'example/history:1'],
      [2, 'example/history:2'],
    ]);
    const image = async () =>
      (await apps.readNamespacedDeployment({ name: 'history', namespace: ns() })).spec?.template.spec?.containers[0]
        ?.image;
    await waitFor('the Deployment on :2', async () => (await image()) === 'example/history:2');

    // Seed 001, Rollback, Kubernetes: `kubectl rollout undo deployment/<agent-name>` as written. The Deployment goes
    // back to :1 and the operator, which owns it, applies the Agent's :2 again (ADR 0011: roll the Agent back instead).
    const deployment = async () => apps.readNamespacedDeployment({ name: 'history', namespace: ns() });
    await waitFor('two ReplicaSets to undo between', async () => {
      const sets = await apps.listNamespacedReplicaSet({
        namespace: ns(),
        labelSelector: 'agentspec.io/agent-name=history',
      });
      return sets.items.length >= 2;
    });
    const before = (await deployment()).metadata?.generation ?? 0;
    expect(await kubectl(testKubeconfigPath(), ['rollout', 'undo', 'deployment/history', '-n', ns()])).toContain(
      'deployment.apps/history rolled back',
    );
    await waitFor('the undo reverted by the operator', async () => {
      const d = await deployment();
      return (
        (d.metadata?.generation ?? 0) >= before + 2 &&
        d.spec?.template.spec?.containers[0]?.image === 'example/history:2'
      );
    });

    const annotate = (value: string) =>
      custom.patchNamespacedCustomObject(
        { ...ref('history'), body: { metadata: { annotations: { 'agentspec.io/rollback-to': value } } } },
        setHeaderOptions('Content-Type', 'application/merge-patch+json'),
      );
    await annotate('previous');
    await waitFor('the Deployment back on :1', async () => (await image()) === 'example/history:1', {
      timeoutMs: 60_000,
    });
    const agent = (await getAgent('history')) as unknown as {
      spec: { deployment: { image: string } };
      metadata: { annotations?: Record<string, string> };
    };
    expect(agent.spec.deployment.image).toBe('example/history:1');
    expect(agent.metadata.annotations?.['agentspec.io/rollback-to']).toBeUndefined();
    // The spec applied again is the newest revision now, as a Deployment renumbers a ReplicaSet it goes back to.
    await waitFor('revision 1 renumbered 3', async () => (await revisions()).at(-1)?.[0] === 3);
    expect(await revisions()).toEqual([
      [2, 'example/history:2'],
      [3, 'example/history:1'],
    ]);

    // A revision that is not kept: nothing changes but the annotation, and a Warning says why.
    await annotate('1');
    await waitFor('the annotation removed', async () => {
      const a = (await getAgent('history')) as { metadata: { annotations?: Record<string, string> } };
      return a.metadata.annotations?.['agentspec.io/rollback-to'] === undefined;
    });
    expect(await image()).toBe('example/history:1');
    await waitFor('a RollbackFailed event', async () =>
      (await core.listNamespacedEvent({ namespace: ns() })).items.some(
        (e) => e.reason === 'RollbackFailed' && e.message?.includes('revision 1 is not kept (kept: 2, 3)'),
      ),
    );
    // The revisions go with their Agent (owner references): the namespace holds only the coach again.
    await custom.deleteNamespacedCustomObject(ref('history'));
    await waitFor('the Agent gone', () => gone(() => getAgent('history')), { timeoutMs: 60_000 });
  }, 180_000);

  it('reports an Agent the CRD accepts but that cannot run, with a clear reason and no Deployment', async () => {
    const { image: _image, ...noImage } = coach.spec.deployment;
    await createAgent('imageless', { ...coach.spec, deployment: noImage });
    await waitFor('Failed', async () => (await getAgent('imageless')).status?.phase === 'Failed');
    expect(condition(await getAgent('imageless'), 'Ready')).toMatchObject({
      status: 'False',
      reason: 'MissingImage',
      message: 'spec.deployment.image is not set: there is no agent image to run',
    });
    const deployments = await apps.listNamespacedDeployment({
      namespace: ns(),
      fieldSelector: 'metadata.name=imageless',
    });
    expect(deployments.items).toHaveLength(0);
    const events = await core.listNamespacedEvent({ namespace: ns(), fieldSelector: 'involvedObject.name=imageless' });
    expect(events.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Warning', reason: 'MissingImage' })]),
    );
  });

  it('runs an Agent whose spec upstream accepts but only describes, and says what is wrong in one Warning event', async () => {
    const model = {
      ...(coach.spec['model'] as Record<string, unknown>),
      costControls: { maxMonthlyUSD: 10, alertAtUSD: 20 },
    };
    const spec = { ...coach.spec, model };
    await createAgent('overspend', spec);
    await waitFor(
      'the Deployment',
      async () =>
        (await apps.listNamespacedDeployment({ namespace: ns(), fieldSelector: 'metadata.name=overspend' })).items
          .length === 1,
    );
    const warnings = async () =>
      (
        await core.listNamespacedEvent({ namespace: ns(), fieldSelector: 'involvedObject.name=overspend' })
      ).items.filter((e) => e.reason === 'ManifestWarnings');
    await waitFor('the ManifestWarnings event', async () => (await warnings()).length > 0);
    const [event] = await warnings();
    expect(event).toMatchObject({
      type: 'Warning',
      message:
        'generation 1: spec.model.costControls.alertAtUSD: 20 is above maxMonthlyUSD (10): the limit is reached before the alert',
    });
    await custom.deleteNamespacedCustomObject(ref('overspend'));
  });

  it('deregisters a deleted Agent from the control plane (its tokens stop working) before letting it go', async () => {
    const registered = await fetch(`${cp.url}/api/v1/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-key': cp.adminKey },
      body: JSON.stringify({ agentName: 'imageless', namespace: ns(), instanceId: 'i-1', runtime: 'k8s' }),
    });
    const { apiKey } = (await registered.json()) as { apiKey: string };
    await custom.deleteNamespacedCustomObject(ref('imageless'));
    await waitFor('the Agent to go', () => gone(() => getAgent('imageless')));
    const beat = await fetch(`${cp.url}/api/v1/heartbeat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ health: { status: 'ready' }, gap: { score: 50 } }),
    });
    expect(beat.status).toBe(401);
  });

  it('lets a deleted Agent go after the deregister timeout when the control plane is gone, with a Warning', async () => {
    await cp.stop();
    const started = Date.now();
    await custom.deleteNamespacedCustomObject(ref('coach'));
    await waitFor('the Agent to go', () => gone(() => getAgent('coach')), { timeoutMs: 30_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
    const events = await core.listNamespacedEvent({ namespace: ns(), fieldSelector: 'involvedObject.name=coach' });
    expect(events.items.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['DeregisterFailed', 'DeregisterTimedOut']),
    );
  });

  it('removes the Secret copy once the namespace holds no Agents or labelled pods', async () => {
    // The garbage collector removes the Deployment, its ReplicaSet and Pods (it learns the Agent kind from
    // discovery every 30 s).
    await waitFor(
      'the copy to be removed',
      () => gone(() => core.readNamespacedSecret({ name: 'agentspec-control-plane', namespace: ns() })),
      { timeoutMs: 100_000, intervalMs: 1_000 },
    );
    expect(
      (await core.listNamespacedPod({ namespace: ns(), labelSelector: 'agentspec.io/inject=true' })).items,
    ).toHaveLength(0);
  }, 120_000);
});
