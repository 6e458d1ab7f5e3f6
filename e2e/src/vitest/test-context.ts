import { basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, inject } from 'vitest';
import { createDatabaseAt } from '../postgres.js';

let namespace: string | undefined;

/** The kubeconfig of the run's test cluster (admin). */
export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(inject('kubeconfigPath'));
  return kc;
}

export function testKubeconfigPath(): string {
  return inject('kubeconfigPath');
}

export function testPostgresUrl(): string {
  return inject('postgresUrl');
}

/**
 * The test node when one runs: chart values that make the chart use the images built for it, and their archive.
 */
export function testNode():
  { running: true; helmValues: string[]; archive: string } | { running: false; reason: string } {
  return inject('testNode');
}

let databases = 0;

/** A new, empty database on the run's PostgreSQL (one per test or per file keeps them independent). */
export function testDatabase(): Promise<string> {
  return createDatabaseAt(inject('postgresUrl'), `t_${process.pid}_${Date.now().toString(36)}_${databases++}`);
}

/** The namespace this test file owns; created before its tests and deleted after them. */
export function testNamespace(): string {
  if (!namespace) throw new Error('testNamespace() is only available inside tests (after beforeAll of the setup file)');
  return namespace;
}

function namespaceFor(file: string): string {
  const stem = basename(file)
    .replace(/\.(int|e2e)?\.?test\.ts$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `t-${stem || 'test'}-${randomBytes(3).toString('hex')}`;
}

/** Registered by the tiers' setupFiles: one namespace per test file, ready for Pods (default ServiceAccount). */
export function registerNamespaceHooks(): void {
  // vitest passes fixtures first and only accepts a destructuring pattern there.
  // eslint-disable-next-line no-empty-pattern
  beforeAll(async ({}, suite) => {
    const kc = testKubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    namespace = namespaceFor(suite.file.filepath);
    await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'agentspec.io/test': 'true' } } } });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await core.readNamespacedServiceAccount({ name: 'default', namespace });
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`namespace ${namespace} got no default ServiceAccount within 30 s`, { cause: err });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }, 60_000);
  afterAll(async () => {
    if (!namespace) return;
    const core = testKubeConfig().makeApiClient(CoreV1Api);
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    namespace = undefined;
  });
}
