import { describe, expect, it } from 'vitest';
import { parseManifest } from './load.js';
import { findReferences } from './references.js';

describe('findReferences', () => {
  it('lists each reference once, with the first field that uses it', () => {
    const { manifest } = parseManifest({
      apiVersion: 'agentspec.io/v1',
      kind: 'AgentSpec',
      metadata: { name: 'refs', version: '1.0.0', description: 'd' },
      spec: {
        model: {
          provider: 'openai',
          id: 'gpt-4o',
          apiKey: '$secret:openai',
          fallback: { provider: 'x', id: 'y', apiKey: '$secret:openai' },
        },
        prompts: { system: '$file:prompts/system.md', variables: [{ name: 'today', value: '$func:now_date' }] },
        requires: { services: [{ type: 'redis', connection: '$env:REDIS_URL' }] },
        memory: { shortTerm: { backend: 'redis', connection: '$env:REDIS_URL' } },
      },
    });
    expect(findReferences(manifest)).toEqual([
      { kind: 'secret', target: 'openai', field: 'spec.model.apiKey' },
      { kind: 'file', target: 'prompts/system.md', field: 'spec.prompts.system' },
      { kind: 'func', target: 'now_date', field: 'spec.prompts.variables[0].value' },
      { kind: 'env', target: 'REDIS_URL', field: 'spec.memory.shortTerm.connection' },
    ]);
  });
});
