import { defineConfig } from 'vitest/config';
import { excluded, sharedConfig } from './vitest.shared.js';

// Unit tier: pure logic, no servers. Files: *.test.ts (but not *.int.test.ts / *.e2e.test.ts).
export default defineConfig({
  ...sharedConfig,
  test: {
    include: ['**/src/**/*.test.ts'],
    exclude: [...excluded, '**/*.int.test.ts', '**/*.e2e.test.ts'],
  },
});
