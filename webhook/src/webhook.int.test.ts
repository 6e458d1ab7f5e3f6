// The webhook through the real apiserver of the test cluster: a MutatingWebhookConfiguration with a `url` client
// config (scoped to this file's namespace) pointing at the webhook, its TLS from the built-in rotator.
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api, type V1EnvVar, type V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, testWebhookConfiguration, waitFor } from '@agentspec/e2e';
import { testKubeConfig, testNamespace } from '@agentspec/e2e/vitest';
import { CertificateRotator } from './certificates.js';
import { startWebhook, type RunningWebhook } from './server.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const admission = kc.makeApiClient(AdmissionregistrationV1Api);
const logger = pino({ level: process.env['WEBHOOK_TEST_LOG'] ?? 'warn' });
const ADMIN_KEY = 'webhook-int-admin-key-9f3a';
const CONTROL_PLANE_URL = 'http://agentspec-control-plane.agentspec-system:8080';
const configName = () => `agentspec-webhook-${testNamespace()}`;

let port = 0;
let webhook: RunningWebhook | undefined;
const fingerprints = new Set<string>();

async function start(validitySeconds: number, renewBeforeSeconds: number): Promise<RunningWebhook> {
  const certificates = new CertificateRotator({
    kubeConfig: kc,
    namespace: testNamespace(),
    secretName: 'agentspec-webhook-tls',
    webhookConfigurationName: configName(),
    serviceName: 'agentspec-webhook',
    extraHosts: ['127.0.0.1'],
    validityMs: validitySeconds * 1000,
    renewBeforeMs: renewBeforeSeconds * 1000,
    checkIntervalMs: 500,
    logger,
  });
  const running = await startWebhook({
    inject: { controlPlaneUrl: CONTROL_PLANE_URL, excludedNamespaces: new Set(['kube-system']) },
    certificates,
    port,
    host: '127.0.0.1',
    healthPort: 0,
    logger,
  });
  const fingerprint = running.current()?.fingerprint;
  if (fingerprint) fingerprints.add(fingerprint);
  return running;
}

const caBundle = async () =>
  (await admission.readMutatingWebhookConfiguration({ name: configName() })).webhooks?.[0]?.clientConfig.caBundle ?? '';

const env = (pod: V1Pod, container = 0): V1EnvVar[] => pod.spec?.containers[container]?.env ?? [];
const names = (pod: V1Pod, container = 0) => env(pod, container).map((e) => e.name);

async function createPod(name: string, labels: Record<string, string>, extraEnv: V1EnvVar[] = []): Promise<V1Pod> {
  return core.createNamespacedPod({
    namespace: testNamespace(),
    body: {
      metadata: { name, labels },
      spec: {
        containers: [{ name: 'agent', image: 'registry.test/agent:1', ...(extraEnv.length ? { env: extraEnv } : {}) }],
      },
    },
  });
}

beforeAll(async () => {
  port = await freePort();
  await admission.createMutatingWebhookConfiguration({
    body: testWebhookConfiguration(configName(), testNamespace(), `https://127.0.0.1:${port}/mutate`),
  });
  await core.createNamespacedSecret({
    namespace: testNamespace(),
    body: { metadata: { name: 'agentspec-control-plane' }, stringData: { apiKey: ADMIN_KEY } },
  });
  webhook = await start(3600, 60);
  await waitFor('the caBundle', async () => (await caBundle()) !== '');
  // The apiserver admits with our CA from now on: a probe pod proves the path works before the tests run.
  await waitFor('the webhook to be called', async () => {
    const pod = await createPod(`probe-${Date.now()}`, { 'agentspec.io/inject': 'true' });
    return names(pod).includes('AGENTSPEC_CONTROL_PLANE_URL');
  });
});

afterAll(async () => {
  await webhook?.stop();
  await admission.deleteMutatingWebhookConfiguration({ name: configName() }).catch(() => undefined);
});

describe('agentspec-webhook through the apiserver', () => {
  it('is ready once it serves a valid certificate and exposes its metrics', async () => {
    expect((await fetch(`${webhook!.healthUrl}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${webhook!.healthUrl}/metrics`)).text();
    expect(metrics).toContain('agentspec_webhook_admission_requests_total{result="injected"}');
    expect(metrics).toContain('agentspec_webhook_admission_duration_seconds_bucket{le="0.0001"');
    expect(metrics).toContain('agentspec_webhook_injected_variables_total');
  });

  it('injects the registration variables exactly once into labelled pods, and never into others', async () => {
    const labelled = await createPod('labelled', { 'agentspec.io/inject': 'true', 'agentspec.io/agent-name': 'coach' });
    expect(names(labelled)).toEqual([
      'AGENTSPEC_CONTROL_PLANE_URL',
      'AGENTSPEC_ADMIN_KEY',
      'AGENTSPEC_INSTANCE_ID',
      'AGENTSPEC_NAMESPACE',
      'AGENTSPEC_AGENT_NAME',
    ]);
    expect(env(labelled)[1]).toEqual({
      name: 'AGENTSPEC_ADMIN_KEY',
      valueFrom: { secretKeyRef: { name: 'agentspec-control-plane', key: 'apiKey', optional: true } },
    });
    const plain = await createPod('plain', { app: 'plain' });
    expect(env(plain)).toEqual([]);
  });

  it('keeps values the user set', async () => {
    const pod = await createPod('user-set', { 'agentspec.io/inject': 'true' }, [
      { name: 'AGENTSPEC_CONTROL_PLANE_URL', value: 'http://elsewhere:9000' },
    ]);
    expect(env(pod).filter((e) => e.name === 'AGENTSPEC_CONTROL_PLANE_URL')).toEqual([
      { name: 'AGENTSPEC_CONTROL_PLANE_URL', value: 'http://elsewhere:9000' },
    ]);
    expect(names(pod)).toContain('AGENTSPEC_ADMIN_KEY');
  });

  it('injects into the pods of a Deployment, and the admin key is in no stored object', async () => {
    await apps.createNamespacedDeployment({
      namespace: testNamespace(),
      body: {
        metadata: { name: 'agents' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'agents' } },
          template: {
            metadata: { labels: { app: 'agents', 'agentspec.io/inject': 'true', 'agentspec.io/agent-name': 'fleet' } },
            spec: { containers: [{ name: 'agent', image: 'registry.test/agent:1' }] },
          },
        },
      },
    });
    let pods: V1Pod[] = [];
    await waitFor('the Deployment pods', async () => {
      pods = (await core.listNamespacedPod({ namespace: testNamespace(), labelSelector: 'app=agents' })).items;
      return pods.length === 2;
    });
    for (const pod of pods) {
      expect(names(pod).filter((n) => n === 'AGENTSPEC_ADMIN_KEY')).toHaveLength(1);
      expect(env(pod).find((e) => e.name === 'AGENTSPEC_AGENT_NAME')?.value).toBe('fleet');
    }
    const stored = JSON.stringify([
      await core.listNamespacedPod({ namespace: testNamespace() }),
      await apps.listNamespacedDeployment({ namespace: testNamespace() }),
      await apps.listNamespacedReplicaSet({ namespace: testNamespace() }),
    ]);
    expect(stored).not.toContain(ADMIN_KEY);
    expect(stored).not.toContain(Buffer.from(ADMIN_KEY).toString('base64'));
  });

  it('never blocks a pod: with the webhook stopped, pods are still created (failurePolicy: Ignore)', async () => {
    await webhook!.stop();
    const pod = await createPod('while-down', { 'agentspec.io/inject': 'true' });
    expect(pod.metadata?.uid).toBeDefined();
    expect(env(pod)).toEqual([]);
    webhook = await start(3600, 60);
  });

  it('renews the certificate, updates caBundle and serves the new one with no failed admission', async () => {
    await webhook!.stop();
    const bundleBefore = await caBundle();
    // 30 s certificates renewed with 20 s left: a rotation every ~10 s.
    webhook = await start(30, 20);
    const deadline = Date.now() + 25_000;
    let created = 0;
    const missed: string[] = [];
    while (Date.now() < deadline) {
      const fingerprint = webhook.current()?.fingerprint;
      if (fingerprint) fingerprints.add(fingerprint);
      const name = `rotating-${created++}`;
      const pod = await createPod(name, { 'agentspec.io/inject': 'true' });
      if (!names(pod).includes('AGENTSPEC_CONTROL_PLANE_URL')) missed.push(name);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(created).toBeGreaterThan(20);
    expect(missed).toEqual([]);
    expect(fingerprints.size).toBeGreaterThanOrEqual(3);
    expect(await caBundle()).not.toBe(bundleBefore);
  }, 60_000);

  it('lets one replica rotate when two race for an empty Secret', async () => {
    const secretName = 'race-tls';
    const rotator = () =>
      new CertificateRotator({
        kubeConfig: kc,
        namespace: testNamespace(),
        secretName,
        webhookConfigurationName: 'does-not-exist',
        serviceName: 'agentspec-webhook',
        validityMs: 3_600_000,
        renewBeforeMs: 60_000,
        checkIntervalMs: 60_000,
        logger,
      });
    const served: string[] = [];
    await Promise.all([rotator(), rotator()].map((r) => r.reconcile((c) => served.push(c.fingerprint))));
    expect(served).toHaveLength(2);
    expect(served[0]).toBe(served[1]);
  });
});
