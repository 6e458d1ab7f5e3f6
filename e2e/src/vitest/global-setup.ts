import type { TestProject } from 'vitest/node';
import { startTestCluster, type TestCluster } from '../cluster.js';
import { startTestPostgres, type TestPostgres } from '../postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfigPath: string;
    kubernetesServer: string;
    postgresUrl: string;
    /** The test node's facts when one runs (pods run for real), else why none does. */
    testNode: { running: true; helmValues: string[]; archive: string } | { running: false; reason: string };
  }
}

/**
 * One real cluster and one real PostgreSQL per test run; each test file gets its own namespace and database. With
 * AGENTSPEC_TEST_NODE=auto (the e2e tier) the cluster gets a node running real pods where this machine can.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cluster: TestCluster | undefined;
  let postgres: TestPostgres | undefined;
  const teardown = async (): Promise<void> => {
    await Promise.allSettled([
      cluster?.stop({ keepDir: process.env['AGENTSPEC_KEEP_CLUSTER'] === '1' }),
      postgres?.stop(),
    ]);
  };
  const node = process.env['AGENTSPEC_TEST_NODE'] === 'auto' ? 'auto' : process.env['AGENTSPEC_TEST_NODE'] === '1';
  try {
    [cluster, postgres] = await Promise.all([
      startTestCluster({ node, log: (m) => console.log(`test cluster: ${m}`) }),
      startTestPostgres(),
    ]);
  } catch (err) {
    await teardown();
    throw err;
  }
  project.provide('kubeconfigPath', cluster.kubeconfigPath);
  project.provide('kubernetesServer', cluster.server);
  project.provide('postgresUrl', postgres.url);
  if (cluster.node) {
    const { helmValues, archive } = cluster.node.images;
    project.provide('testNode', { running: true, helmValues, archive });
  } else {
    project.provide('testNode', { running: false, reason: cluster.nodeAbsentReason ?? 'unknown' });
    if (node) console.log(`test cluster: no node (${cluster.nodeAbsentReason}): pods are played by the pod runner`);
  }
  return async () => {
    const left = cluster;
    await teardown();
    if (left?.node && left.hostDifferences.length) {
      throw new Error(`the test node left the host changed: ${left.hostDifferences.join('; ')}`);
    }
  };
}
