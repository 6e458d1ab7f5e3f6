import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateAgentCrd, toStructural } from './generate-crd.js';
import { renderAgentCrd } from './render-crd.js';

const repo = resolve(import.meta.dirname, '..', '..', '..', '..');
const committed = resolve(repo, 'crds', 'agentspec.io_agents.yaml');
const inChart = resolve(repo, 'charts', 'agentspec', 'files', 'crds', 'agentspec.io_agents.yaml');

type Json = Record<string, unknown>;
const at = (value: unknown, ...path: string[]): Json => path.reduce((v, key) => (v as Json)[key], value) as Json;

describe('Agent CRD', () => {
  it('is up to date with the schema (run `make crds` when this fails)', () => {
    expect(readFileSync(committed, 'utf8'), 'crds/agentspec.io_agents.yaml is stale: run `make crds`').toBe(
      renderAgentCrd(),
    );
    expect(readFileSync(inChart, 'utf8'), "the chart's copy of the CRD is stale: run `make crds`").toBe(
      renderAgentCrd(),
    );
  });

  const crd = generateAgentCrd();
  const version = (at(crd, 'spec', 'versions') as unknown as Json[])[0] as Json;
  const spec = at(version, 'schema', 'openAPIV3Schema', 'properties', 'spec');

  it('names, scope, status subresource and printer columns', () => {
    expect(at(crd, 'spec', 'names')).toMatchObject({
      kind: 'Agent',
      plural: 'agents',
      shortNames: ['ag'],
      categories: ['agentspec'],
    });
    expect(at(crd, 'spec', 'scope')).toBe('Namespaced');
    expect(version['subresources']).toEqual({ status: {} });
    expect((version['additionalPrinterColumns'] as Json[]).map((c) => c['name'])).toEqual([
      'Phase',
      'Grade',
      'Score',
      'Instances',
      'Total',
      'Ready',
      'Age',
    ]);
  });

  it('is structural: no unions, no additionalProperties beside properties, every object typed', () => {
    const visit = (node: Json, path: string): void => {
      expect(node, path).not.toHaveProperty('oneOf');
      expect(node, path).not.toHaveProperty('anyOf');
      if (node['properties']) expect(node, path).not.toHaveProperty('additionalProperties');
      if (!node['x-kubernetes-int-or-string']) expect(node['type'], `${path} has a type`).toBeDefined();
      for (const [key, child] of Object.entries((node['properties'] as Record<string, Json> | undefined) ?? {}))
        visit(child, `${path}.${key}`);
      if (node['items']) visit(node['items'] as Json, `${path}[]`);
      if (typeof node['additionalProperties'] === 'object') visit(node['additionalProperties'] as Json, `${path}{}`);
    };
    visit(at(version, 'schema', 'openAPIV3Schema'), '');
  });

  it('carries descriptions for kubectl explain and the cross-field rules as CEL', () => {
    expect(at(spec, 'properties', 'model')['description']).toBe('The language model the agent calls.');
    const ref = at(spec, 'properties', 'subagents', 'items', 'properties', 'ref');
    expect(ref['x-kubernetes-validations']).toEqual([
      { rule: 'has(self.agentspec) || has(self.a2a)', message: 'set agentspec or a2a' },
    ]);
    // What upstream only describes is not enforced (issue #20): the manifest warnings report it.
    expect(at(spec, 'properties', 'model', 'properties', 'costControls')['x-kubernetes-validations']).toBeUndefined();
  });

  it('merges guardrail variants into one object with per-type CEL rules', () => {
    const input = at(spec, 'properties', 'guardrails', 'properties', 'input', 'items');
    expect(at(input, 'properties', 'type')['enum']).toEqual([
      'topic-filter',
      'pii-detector',
      'prompt-injection',
      'custom',
    ]);
    expect(input['required']).toEqual(['type', 'action']);
    const rules = (input['x-kubernetes-validations'] as { rule: string; message: string }[]).map((r) => r.message);
    expect(rules).toContain('type topic-filter needs blockedTopics, action');
    expect(rules).toContain('type custom needs module, function, action');
    expect(rules).toContain('action of type pii-detector must be one of scrub, reject, warn');
    expect(rules).toContain('type prompt-injection allows only type, action, sensitivity');
  });

  it('turns string-or-number maps into int-or-string quantities', () => {
    const requests = at(spec, 'properties', 'deployment', 'properties', 'resources', 'properties', 'requests');
    expect(requests['additionalProperties']).toEqual({ 'x-kubernetes-int-or-string': true });
  });

  it('refuses unions it cannot express', () => {
    expect(() => toStructural({ anyOf: [{ type: 'string' }, { type: 'boolean' }] })).toThrow(
      'cannot express a union of string, boolean',
    );
  });
});
