import type { TestProject } from 'vitest/node';
import { startTestCluster, type TestCluster } from '../cluster.js';
import { startTestPostgres, type TestPostgres } from '../postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfigPath: string;
    kubernetesServer: string;
    postgresUrl: string;
  }
}

/** One real cluster and one real PostgreSQL per test run; each test file gets its own namespace and database. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cluster: TestCluster | undefined;
  let postgres: TestPostgres | undefined;
  const teardown = async (): Promise<void> => {
    await Promise.allSettled([
      cluster?.stop({ keepDir: process.env['AGENTSPEC_KEEP_CLUSTER'] === '1' }),
      postgres?.stop(),
    ]);
  };
  try {
    [cluster, postgres] = await Promise.all([startTestCluster(), startTestPostgres()]);
  } catch (err) {
    await teardown();
    throw err;
  }
  project.provide('kubeconfigPath', cluster.kubeconfigPath);
  project.provide('kubernetesServer', cluster.server);
  project.provide('postgresUrl', postgres.url);
  return teardown;
}
