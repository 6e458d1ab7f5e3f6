import { defineConfig } from 'vitest/config';
import { excluded, sharedConfig } from './vitest.shared.js';

// End-to-end tier: scenarios on the real test cluster through public interfaces only; the cluster gets a node
// that runs real pods where this machine can (root, containerd), else the pod runner plays it.
process.env['AGENTSPEC_TEST_NODE'] ??= 'auto';
export default defineConfig({
  ...sharedConfig,
  test: {
    include: ['e2e/tests/**/*.e2e.test.ts'],
    exclude: excluded,
    globalSetup: ['e2e/src/vitest/global-setup.ts'],
    setupFiles: ['e2e/src/vitest/namespace-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    // Scenarios share one cluster and start processes; run files one after another on 2 cores.
    fileParallelism: false,
  },
});
