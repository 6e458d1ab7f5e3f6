import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { ApiextensionsV1Api, KubeConfig, type V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import { kubectl } from './crds.js';
import { testbinPaths } from './testbin.js';

const run = promisify(execFile);
export const chartDir = resolve(import.meta.dirname, '..', '..', 'charts', 'agentspec');

/** The pinned helm against a cluster. */
export function helm(kubeconfigPath: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(testbinPaths().helm, [...args, '--kubeconfig', kubeconfigPath], { maxBuffer: 64 * 1024 * 1024 });
}

/** Lets release `agentspec` in `namespace` adopt a CRD that was applied with kubectl (helm refuses unowned objects). */
export async function adoptCrd(kubeconfigPath: string, namespace: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const existing = await kc
    .makeApiClient(ApiextensionsV1Api)
    .readCustomResourceDefinition({ name: 'agents.agentspec.io' })
    .catch(() => undefined);
  if (!existing) return;
  await kubectl(kubeconfigPath, [
    'annotate',
    'crd',
    'agents.agentspec.io',
    '--overwrite',
    'meta.helm.sh/release-name=agentspec',
    `meta.helm.sh/release-namespace=${namespace}`,
  ]);
  await kubectl(kubeconfigPath, [
    'label',
    'crd',
    'agents.agentspec.io',
    '--overwrite',
    'app.kubernetes.io/managed-by=Helm',
  ]);
}

/** The user's command: `helm upgrade --install agentspec charts/agentspec -n NS [--set ...]`, adopting the CRD. */
export async function installChart(kubeconfigPath: string, namespace: string, sets: string[] = []): Promise<void> {
  await adoptCrd(kubeconfigPath, namespace);
  await helm(
    kubeconfigPath,
    'upgrade',
    '--install',
    'agentspec',
    chartDir,
    '-n',
    namespace,
    '--create-namespace',
    ...sets.flatMap((s) => ['--set', s]),
  );
}

/** The user's flags. */
export const USER_FLAGS = ['controlPlane.enabled=true', 'webhook.enabled=true'];

/**
 * A MutatingWebhookConfiguration as the chart makes it, but calling `url` and limited to one namespace (so tests
 * sharing a cluster do not see each other's webhooks).
 */
export function testWebhookConfiguration(name: string, namespace: string, url: string): V1MutatingWebhookConfiguration {
  return {
    metadata: { name },
    webhooks: [
      {
        name: 'inject.agentspec.io',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Ignore',
        reinvocationPolicy: 'IfNeeded',
        timeoutSeconds: 5,
        clientConfig: { url },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        namespaceSelector: {
          matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [namespace] }],
        },
        objectSelector: { matchLabels: { 'agentspec.io/inject': 'true' } },
      },
    ],
  };
}
