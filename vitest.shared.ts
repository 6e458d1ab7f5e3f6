import { defaultServerConditions } from 'vite';
import type { ViteUserConfig } from 'vitest/config';

/** Workspace packages resolve to their TypeScript sources in tests (the "source" export condition). */
export const sharedConfig: ViteUserConfig = {
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions] } },
};

export const excluded = ['**/node_modules/**', '**/dist/**', '**/.agentspec-data/**'];
