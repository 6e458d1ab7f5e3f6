// The shared scenario of `make kind-e2e` (e2e/src/scenario/first-agent.ts) run here on the in-process provider: the
// chart installed with the user's flags, the fitness coach applied with kubectl and Registered with a grade. kind runs
// the same module with its own provider (e2e/src/scenario/providers.ts), so the two cannot drift.
import { afterAll, describe, expect, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { helm } from '../src/index.js';
import { runFirstAgentScenario } from '../src/scenario/first-agent.js';
import { inProcessProvider } from '../src/scenario/providers.js';
import {
  testDatabase,
  testKubeConfig,
  testKubeconfigPath,
  testNamespace,
  testNode,
} from '../src/vitest/test-context.js';

const agents = () => `${testNamespace()}-first`;
afterAll(async () => {
  // As the user would: the release goes (cluster-scoped objects included), then the agents' namespace.
  await helm(
    testKubeconfigPath(),
    'uninstall',
    'agentspec',
    '-n',
    testNamespace(),
    ...(testNode().running ? ['--wait', '--timeout=120s'] : ['--no-hooks']),
  ).catch(() => undefined);
  await testKubeConfig()
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name: agents() })
    .catch(() => undefined);
});

describe('the shared end-to-end scenario (one module, two cluster providers)', () => {
  it("on the in-process provider: the chart with the user's flags, then the example Registered with a grade", async () => {
    const node = testNode();
    const provider = inProcessProvider(
      testKubeconfigPath(),
      node.running
        ? { running: true, helmValues: node.helmValues }
        : { running: false, databaseUrl: await testDatabase() },
    );
    const result = await runFirstAgentScenario(provider, {
      releaseNamespace: testNamespace(),
      agentsNamespace: agents(),
    });
    expect(result.grade).toMatch(/^[A-F]$/);
    expect(result.score).toBeGreaterThanOrEqual(0);
  }, 600_000);
});
