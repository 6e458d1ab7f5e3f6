// Proof that the test cluster is real: controllers run, the apiserver calls admission webhooks,
// garbage collection works, and kubectl and helm talk to it with the written kubeconfig.
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, freePort, testbinPaths, waitFor } from '../src/index.js';
import { testKubeConfig, testKubeconfigPath, testNamespace } from '../src/vitest/test-context.js';

const run = promisify(execFile);
const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const admission = kc.makeApiClient(AdmissionregistrationV1Api);

const pauseContainer = [{ name: 'main', image: 'registry.invalid/pause:3.10' }];

describe('test cluster built from source', () => {
  it('runs kube-controller-manager: a Deployment with 2 replicas gets 2 Pods', async () => {
    const namespace = testNamespace();
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'two-replicas' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'two-replicas' } },
          template: { metadata: { labels: { app: 'two-replicas' } }, spec: { containers: pauseContainer } },
        },
      },
    });
    const pods = await waitFor('2 Pods of the Deployment', async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: 'app=two-replicas' });
      return list.items.length === 2 ? list.items : undefined;
    });
    expect(pods.map((p) => p.metadata?.ownerReferences?.[0]?.kind)).toEqual(['ReplicaSet', 'ReplicaSet']);
  });

  it('garbage-collects an object when its owner is deleted', async () => {
    const namespace = testNamespace();
    const owner = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'owner' } } });
    await core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: {
          name: 'owned',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid ?? '' }],
        },
      },
    });
    await core.deleteNamespacedConfigMap({ name: 'owner', namespace, propagationPolicy: 'Background' });
    await waitFor('the owned ConfigMap to be garbage-collected', async () => {
      const list = await core.listNamespacedConfigMap({ namespace, fieldSelector: 'metadata.name=owned' });
      return list.items.length === 0;
    });
  });

  describe('admission webhooks', () => {
    let server: Server | undefined;
    const webhookName = `proof-${Date.now()}.agentspec.io`;
    afterAll(async () => {
      await admission.deleteMutatingWebhookConfiguration({ name: webhookName }).catch(() => undefined);
      server?.close();
    });

    it('calls a MutatingWebhookConfiguration with a url client config on Pod CREATE and stores its patch', async () => {
      const namespace = testNamespace();
      const ca = await createCertificateAuthority('proof-webhook-ca');
      const serving = await ca.issue({ subject: 'CN=127.0.0.1', usage: 'server', ipAddresses: ['127.0.0.1'] });
      const calls: string[] = [];
      server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            request: { uid: string; operation: string; object: { metadata: { name?: string; generateName?: string } } };
          };
          calls.push(`${review.request.operation} ${review.request.object.metadata.name ?? ''}`);
          const patch = [{ op: 'add', path: '/metadata/annotations', value: { 'proof.agentspec.io/mutated': 'yes' } }];
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              apiVersion: 'admission.k8s.io/v1',
              kind: 'AdmissionReview',
              response: {
                uid: review.request.uid,
                allowed: true,
                patchType: 'JSONPatch',
                patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
              },
            }),
          );
        });
      });
      const port = await freePort();
      await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));

      await admission.createMutatingWebhookConfiguration({
        body: {
          metadata: { name: webhookName },
          webhooks: [
            {
              name: webhookName,
              clientConfig: {
                url: `https://127.0.0.1:${port}/mutate`,
                caBundle: Buffer.from(ca.certPem).toString('base64'),
              },
              rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
              admissionReviewVersions: ['v1'],
              sideEffects: 'None',
              failurePolicy: 'Fail',
              timeoutSeconds: 5,
            },
          ],
        },
      });

      // The apiserver picks up new webhook configurations asynchronously: retry creation until the patch shows.
      const stored = await waitFor('a Pod mutated by the webhook', async () => {
        const name = `mutated-${calls.length}-${Date.now() % 100000}`;
        const pod = await core.createNamespacedPod({
          namespace,
          body: { metadata: { name }, spec: { containers: pauseContainer } },
        });
        return pod.metadata?.annotations?.['proof.agentspec.io/mutated'] === 'yes' ? name : undefined;
      });
      const readBack = await core.readNamespacedPod({ name: stored, namespace });
      expect(readBack.metadata?.annotations).toMatchObject({ 'proof.agentspec.io/mutated': 'yes' });
      expect(calls).toContain(`CREATE ${stored}`);
    });
  });

  it('answers kubectl with the written kubeconfig and reports the pinned version', async () => {
    const { kubectl, kubernetesVersion } = testbinPaths();
    const kubeconfig = testKubeconfigPath();
    const version = JSON.parse((await run(kubectl, ['--kubeconfig', kubeconfig, 'version', '-o', 'json'])).stdout) as {
      serverVersion: { gitVersion: string };
    };
    expect(version.serverVersion.gitVersion).toBe(kubernetesVersion);
    const { stdout } = await run(kubectl, [
      '--kubeconfig',
      kubeconfig,
      'get',
      'namespace',
      testNamespace(),
      '-o',
      'name',
    ]);
    expect(stdout.trim()).toBe(`namespace/${testNamespace()}`);
  });

  it('installs and uninstalls a Helm chart with the written kubeconfig', async () => {
    const { helm } = testbinPaths();
    const namespace = testNamespace();
    const chart = mkdtempSync(join(tmpdir(), 'proof-chart-'));
    mkdirSync(join(chart, 'templates'));
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: proof\nversion: 0.1.0\n');
    writeFileSync(
      join(chart, 'templates', 'configmap.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  greeting: {{ .Values.greeting | quote }}\n',
    );
    const env = {
      ...process.env,
      HELM_CACHE_HOME: join(chart, '.cache'),
      HELM_CONFIG_HOME: join(chart, '.config'),
      HELM_DATA_HOME: join(chart, '.data'),
    };
    const helmArgs = ['--kubeconfig', testKubeconfigPath(), '--namespace', namespace];
    await run(helm, ['install', 'proof', chart, '--set', 'greeting=hello', ...helmArgs], { env });
    const cm = await core.readNamespacedConfigMap({ name: 'proof-settings', namespace });
    expect(cm.data).toEqual({ greeting: 'hello' });
    await run(helm, ['uninstall', 'proof', '--wait', ...helmArgs], { env });
    const left = await core.listNamespacedConfigMap({ namespace, fieldSelector: 'metadata.name=proof-settings' });
    expect(left.items).toHaveLength(0);
  });
});
