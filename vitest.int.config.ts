import { defineConfig } from 'vitest/config';
import { excluded, sharedConfig } from './vitest.shared.js';

// Integration tier: real servers (kube-apiserver + etcd + kube-controller-manager, PostgreSQL) started once
// per run by the global setup; every test file gets its own namespace.
export default defineConfig({
  ...sharedConfig,
  test: {
    include: ['**/*.int.test.ts'],
    exclude: excluded,
    globalSetup: ['e2e/src/vitest/global-setup.ts'],
    setupFiles: ['e2e/src/vitest/namespace-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
  },
});
