// The Agent reconcile on the real test cluster (called directly; informers and the queue drive it in the operator).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { installCrds, waitFor } from '@agentspec/e2e';
import { testKubeConfig, testKubeconfigPath, testNamespace } from '@agentspec/e2e/vitest';
import { AgentReconciler } from './agent-reconciler.js';

const kc = testKubeConfig();
const custom = kc.makeApiClient(CustomObjectsApi);
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
const reconciler = new AgentReconciler({ kubeConfig: kc, sidecarImage: 'registry.test/agentspec:0.1.0' });
const coach = parse(
  readFileSync(resolve(import.meta.dirname, '..', '..', 'examples', 'fitness-coach', 'agent.yaml'), 'utf8'),
) as {
  metadata: Record<string, unknown>;
  spec: Record<string, unknown> & { deployment: Record<string, unknown> };
};
const ref = (name: string) => ({
  group: 'agentspec.io',
  version: 'v1',
  namespace: testNamespace(),
  plural: 'agents',
  name,
});
type Agent = {
  metadata: { generation: number; resourceVersion: string; uid: string };
  status?: {
    observedGeneration?: number;
    phase?: string;
    conditions?: { type: string; status: string; reason: string; message: string; lastTransitionTime: string }[];
  };
};
const getAgent = async (name: string) => (await custom.getNamespacedCustomObject(ref(name))) as Agent;

async function createAgent(name: string, spec: Record<string, unknown>): Promise<void> {
  await custom.createNamespacedCustomObject({
    group: 'agentspec.io',
    version: 'v1',
    namespace: testNamespace(),
    plural: 'agents',
    body: { apiVersion: 'agentspec.io/v1', kind: 'Agent', metadata: { name }, spec },
  });
}

describe('AgentReconciler', () => {
  beforeAll(async () => {
    await installCrds(testKubeconfigPath());
    await createAgent('coach', coach.spec);
  });

  it('creates exactly the ConfigMap, Deployment and Service, owned by the Agent, and reports status', async () => {
    const namespace = testNamespace();
    await reconciler.reconcile(`${namespace}/coach`);
    const agent = await getAgent('coach');
    const [configMap, deployment, service] = await Promise.all([
      core.readNamespacedConfigMap({ name: 'coach-manifest', namespace }),
      apps.readNamespacedDeployment({ name: 'coach', namespace }),
      core.readNamespacedService({ name: 'coach', namespace }),
    ]);
    for (const object of [configMap, deployment, service]) {
      expect(object.metadata?.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'Agent', name: 'coach', uid: agent.metadata.uid, controller: true }),
      ]);
      expect(object.metadata?.managedFields?.map((f) => f.manager)).toContain('agentspec-operator');
    }
    expect(deployment.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['agent', 'agentspec-sidecar']);
    expect(deployment.spec?.template.metadata?.labels).toMatchObject({
      'agentspec.io/inject': 'true',
      'agentspec.io/agent-name': 'coach',
    });
    expect(agent.status?.observedGeneration).toBe(agent.metadata.generation);
    // No kubelet runs in the test cluster: pods never become ready.
    expect(agent.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PodsNotReady',
    });
    const owned = await apps.listNamespacedDeployment({ namespace, labelSelector: 'agentspec.io/agent-name=coach' });
    expect(owned.items).toHaveLength(1);
  });

  it('skips a status write that would change nothing', async () => {
    const namespace = testNamespace();
    await waitFor('the Deployment status to settle', async () => {
      await reconciler.reconcile(`${namespace}/coach`);
      const before = (await getAgent('coach')).metadata.resourceVersion;
      await reconciler.reconcile(`${namespace}/coach`);
      return (await getAgent('coach')).metadata.resourceVersion === before;
    });
  });

  it('reverts a hand edit of a field it owns', async () => {
    const namespace = testNamespace();
    await apps.patchNamespacedDeployment({
      name: 'coach',
      namespace,
      body: [{ op: 'replace', path: '/spec/replicas', value: 5 }],
    });
    expect((await apps.readNamespacedDeployment({ name: 'coach', namespace })).spec?.replicas).toBe(5);
    await reconciler.reconcile(`${namespace}/coach`);
    expect((await apps.readNamespacedDeployment({ name: 'coach', namespace })).spec?.replicas).toBe(1);
  });

  it('rolls the Deployment on a spec change and reports the new generation', async () => {
    const namespace = testNamespace();
    const hash = async () =>
      (await apps.readNamespacedDeployment({ name: 'coach', namespace })).spec?.template.metadata?.annotations?.[
        'agentspec.io/manifest-hash'
      ];
    const before = await hash();
    await custom.patchNamespacedCustomObject({
      ...ref('coach'),
      body: [{ op: 'replace', path: '/spec/description', value: 'Coaches runners too.' }],
    });
    await reconciler.reconcile(`${namespace}/coach`);
    expect(await hash()).not.toBe(before);
    const agent = await getAgent('coach');
    expect(agent.metadata.generation).toBe(2);
    expect(agent.status?.observedGeneration).toBe(2);
    const configMap = await core.readNamespacedConfigMap({ name: 'coach-manifest', namespace });
    expect(configMap.data?.['agent.yaml']).toContain('Coaches runners too.');
  });

  it('reports an Agent the CRD accepts but that cannot run, with a clear reason and no Deployment', async () => {
    const namespace = testNamespace();
    const { image: _image, ...noImage } = coach.spec.deployment;
    await createAgent('imageless', { ...coach.spec, deployment: noImage });
    await reconciler.reconcile(`${namespace}/imageless`);
    const agent = await getAgent('imageless');
    expect(agent.status?.phase).toBe('Failed');
    expect(agent.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'MissingImage',
      message: 'spec.deployment.image is not set: there is no agent image to run',
    });
    const deployments = await apps.listNamespacedDeployment({ namespace, fieldSelector: 'metadata.name=imageless' });
    expect(deployments.items).toHaveLength(0);
  });

  it('leaves clean-up of a deleted Agent to garbage collection, and tolerates the key afterwards', async () => {
    const namespace = testNamespace();
    await custom.deleteNamespacedCustomObject(ref('coach'));
    // kube-controller-manager's garbage collector learns new kinds (the Agent CRD) from discovery every 30 s.
    await waitFor(
      'the owned objects to be garbage-collected',
      async () => {
        const [d, s, c] = await Promise.all([
          apps.listNamespacedDeployment({ namespace, fieldSelector: 'metadata.name=coach' }),
          core.listNamespacedService({ namespace, fieldSelector: 'metadata.name=coach' }),
          core.listNamespacedConfigMap({ namespace, fieldSelector: 'metadata.name=coach-manifest' }),
        ]);
        return d.items.length + s.items.length + c.items.length === 0;
      },
      { timeoutMs: 90_000, intervalMs: 1_000 },
    );
    await expect(reconciler.reconcile(`${namespace}/coach`)).resolves.toBeUndefined();
  }, 120_000);
});
