// The pods the operator generates against the apiserver's own Pod Security admission: a namespace that enforces
// "restricted" admits them (and, as a control, refuses the same pod without runAsNonRoot).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CoreV1Api, type V1Pod, type V1PodSpec } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKubeConfig } from '@agentspec/e2e/vitest';
import { buildDeployment } from './workload.js';

const root = resolve(import.meta.dirname, '..', '..', '..', '..');
const namespace = `restricted-${process.pid}`;

describe('generated agent pods under Pod Security "restricted"', () => {
  const core = () => testKubeConfig().makeApiClient(CoreV1Api);
  let template: { metadata: V1Pod['metadata']; spec: V1PodSpec };

  beforeAll(async () => {
    await core().createNamespace({
      body: {
        metadata: {
          name: namespace,
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
          },
        },
      },
    });
    const agent = parse(readFileSync(join(root, 'examples', 'fitness-coach', 'agent.yaml'), 'utf8')) as {
      metadata: { name: string };
      spec: Parameters<typeof buildDeployment>[0]['spec'];
    };
    const deployment = buildDeployment({
      name: agent.metadata.name,
      namespace,
      spec: agent.spec,
      sidecarImage: 'registry.test/agentspec-sidecar:0.1.0',
      defaultImage: 'registry.test/coach:1',
      managedBy: 'agentspec-operator',
    }) as unknown as { spec: { template: typeof template } };
    template = deployment.spec.template;
  });

  afterAll(async () => {
    await core().deleteNamespace({ name: namespace });
  });

  const dryRun = (spec: V1PodSpec) =>
    core().createNamespacedPod({
      namespace,
      dryRun: 'All',
      body: { metadata: { name: 'coach', labels: template.metadata?.labels ?? {} }, spec },
    });

  it('admits the pod the operator generates', async () => {
    const pod = await dryRun(template.spec);
    expect(pod.spec?.securityContext?.runAsNonRoot).toBe(true);
  });

  it('refuses the same pod without runAsNonRoot (the check is really enforced)', async () => {
    const { runAsNonRoot: _dropped, ...rest } = template.spec.securityContext ?? {};
    const error = await dryRun({ ...template.spec, securityContext: rest }).then(
      () => undefined,
      (err: { code?: number; body?: string }) => err,
    );
    expect(error?.code).toBe(403);
    const { message } = JSON.parse(String(error?.body)) as { message: string };
    expect(message).toContain('violates PodSecurity "restricted:latest"');
    expect(message).toContain('runAsNonRoot');
  });
});
