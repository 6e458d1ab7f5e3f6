// The informer's cache against a real apiserver: what it keeps of an object (issue #19: one compact copy, without
// what the operator never reads), the index it keeps, and that a caller cannot change the cache through a read.
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { waitFor } from '@agentspec/e2e';
import { testKubeConfig, testNamespace } from '@agentspec/e2e/vitest';
import { Informer } from './informer.js';
import { createOperatorLogger } from './operator.js';

const core = testKubeConfig().makeApiClient(CoreV1Api);
const informers: Informer<V1ConfigMap>[] = [];
afterEach(() => {
  for (const informer of informers.splice(0)) informer.stop();
});

function start(options: Partial<ConstructorParameters<typeof Informer>[0]> = {}, registry?: Registry) {
  const informer = new Informer<V1ConfigMap>({
    kubeConfig: testKubeConfig(),
    resource: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
    namespace: testNamespace(),
    labelSelector: 'cache-test',
    logger: createOperatorLogger('error', []),
    ...(registry ? { registry } : {}),
    ...options,
  });
  informers.push(informer);
  informer.start();
  return informer;
}

const configMap = (name: string, group: string, data: Record<string, string>) =>
  core.createNamespacedConfigMap({
    namespace: testNamespace(),
    body: {
      metadata: {
        name,
        labels: { 'cache-test': group },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ data }), kept: 'yes' },
      },
      data,
    },
  });

describe('the informer cache', () => {
  it("keeps neither managedFields nor kubectl's last-applied-configuration nor what the transform drops", async () => {
    const informer = start({
      transform: (object) => {
        delete (object as V1ConfigMap).data?.['drop'];
      },
    });
    await informer.waitForSync();
    await configMap('stripped', 'a', { keep: 'k', drop: 'd'.repeat(10_000) });
    const key = `${testNamespace()}/stripped`;
    const cached = await waitFor('the cached ConfigMap', async () => informer.get(key));
    expect(cached.data).toEqual({ keep: 'k' });
    expect(cached.metadata?.managedFields).toBeUndefined();
    expect(cached.metadata?.annotations).toEqual({ kept: 'yes' });
    expect(informer.size.jsonBytes).toBe(JSON.stringify(cached).length);
    expect(informer.size.jsonBytes).toBeLessThan(2_000);
  });

  it('hands out copies: changing what get or list returned does not change the cache', async () => {
    const informer = start();
    await informer.waitForSync();
    await configMap('copied', 'a', { value: 'original' });
    const key = `${testNamespace()}/copied`;
    const first = await waitFor('the cached ConfigMap', async () => informer.get(key));
    (first.data as Record<string, string>)['value'] = 'changed by a caller';
    (informer.list(testNamespace())[0]?.data as Record<string, string>)['value'] = 'changed too';
    expect(informer.get(key)?.data).toEqual({ value: 'original' });
  });

  it('finds objects by its index, following updates and deletes, and reports its size as a metric', async () => {
    const registry = new Registry();
    const informer = start({ index: (o) => o.metadata?.labels?.['cache-test'] }, registry);
    await informer.waitForSync();
    await configMap('one', 'g1', { n: '1' });
    await configMap('two', 'g1', { n: '2' });
    await configMap('three', 'g2', { n: '3' });
    const names = (group: string) =>
      informer
        .indexed(group)
        .map((c) => c.metadata?.name)
        .sort();
    await waitFor('all three indexed', async () => names('g1').length === 2 && names('g2').length === 1);
    expect(names('g1')).toEqual(['one', 'two']);

    await core.patchNamespacedConfigMap({
      name: 'two',
      namespace: testNamespace(),
      body: [{ op: 'replace', path: '/metadata/labels/cache-test', value: 'g2' }],
    });
    await waitFor('two moved to g2', async () => names('g2').length === 2);
    expect(names('g1')).toEqual(['one']);
    await core.deleteNamespacedConfigMap({ name: 'one', namespace: testNamespace() });
    await waitFor('one gone', async () => names('g1').length === 0);
    expect(names('g2')).toEqual(['three', 'two']);

    const metrics = await registry.metrics();
    const bytes = Number(/agentspec_operator_cache_json_bytes\{resource="configmaps"\} (\d+)/.exec(metrics)?.[1]);
    expect(bytes).toBe(informer.size.jsonBytes);
    expect(bytes).toBeGreaterThan(0);
  });
});
