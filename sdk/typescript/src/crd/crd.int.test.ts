// The generated CRD in a real apiserver: the examples apply, the upstream form converts and applies, and invalid
// resources are rejected at `kubectl apply` time with a message that names the field.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { installCrds, kubectl } from '@agentspec/e2e';
import { testKubeconfigPath, testNamespace } from '@agentspec/e2e/vitest';
import { convertToAgentResource } from '../manifest/convert.js';

const root = resolve(import.meta.dirname, '..', '..', '..', '..');
const examples = readdirSync(join(root, 'examples'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => join(root, 'examples', d.name, 'agent.yaml'));

const apply = (manifest: unknown): Promise<string> =>
  kubectl(testKubeconfigPath(), ['apply', '-n', testNamespace(), '-f', '-'], stringify(manifest));

const agent = (spec: Record<string, unknown>, name = 'bad') => ({
  apiVersion: 'agentspec.io/v1',
  kind: 'Agent',
  metadata: { name },
  spec: { description: 'd', version: '1.0.0', model: { provider: 'a', id: 'b' }, prompts: { system: 's' }, ...spec },
});

describe('the Agent CRD in a real apiserver', () => {
  beforeAll(async () => {
    await installCrds(testKubeconfigPath());
  });

  it.each(examples)('applies %s with kubectl', async (file) => {
    const out = await kubectl(testKubeconfigPath(), ['apply', '-n', testNamespace(), '-f', file]);
    const name = (parse(readFileSync(file, 'utf8')) as { metadata: { name: string } }).metadata.name;
    expect(out.trim()).toBe(`agent.agentspec.io/${name} created`);
  });

  it('lists agents with the printer columns and the short name', async () => {
    const out = await kubectl(testKubeconfigPath(), ['get', 'ag', '-n', testNamespace()]);
    expect(out.split('\n')[0]).toMatch(/^NAME\s+PHASE\s+GRADE\s+SCORE\s+INSTANCES\s+READY\s+AGE$/);
    expect(out).toContain('fitness-coach');
  });

  it('explains fields with the schema descriptions', async () => {
    const out = await kubectl(testKubeconfigPath(), ['explain', 'agent.spec.model.costControls']);
    expect(out).toContain('Spend limits.');
    expect(out).toContain('maxMonthlyUSD');
  });

  it('accepts an upstream kind: AgentSpec file converted with agentspec convert', async () => {
    const upstream = parse(
      readFileSync(join(root, 'sdk', 'typescript', 'fixtures', 'upstream-every-field.yaml'), 'utf8'),
    );
    expect(await apply(convertToAgentResource(upstream))).toContain('agent.agentspec.io/gymcoach created');
  });

  it('accepts what upstream accepts and only describes (issue #20): the manifest warnings judge it', async () => {
    const lenient = {
      model: { provider: '', id: 'b', costControls: { maxMonthlyUSD: 10, alertAtUSD: 20 } },
      tools: [
        { name: 't', type: 'function' },
        { name: 't', type: 'builtin' },
      ],
      mcp: {
        servers: [
          { name: 'files', transport: 'stdio' },
          { name: 'search', transport: 'http' },
        ],
      },
      memory: { shortTerm: { backend: 'in-memory', ttlSeconds: 0 } },
      subagents: [{ name: 's', ref: { agentspec: 'a.yaml', a2a: { url: 'http://x' } } }],
      humanInTheLoop: { notifyVia: ['webhook'] },
    };
    expect(await apply(agent(lenient, 'lenient'))).toContain('agent.agentspec.io/lenient created');
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'a wrong type',
      { tools: [{ name: 't', type: 'function', annotations: { destructiveHint: 'sometimes' } }] },
      /spec\.tools\[0\]\.annotations\.destructiveHint: Invalid value: "string".*must be of type boolean/,
    ],
    ['an unknown field', { modle: {} }, /unknown field "spec\.modle"/],
    ['a bad version', { version: '1.0' }, /spec\.version: Invalid value: "1\.0"/],
    ['a value outside an enum', { api: { type: 'soap' } }, /spec\.api\.type: Unsupported value: "soap"/],
    [
      'a guardrail action its type does not allow',
      { guardrails: { input: [{ type: 'pii-detector', action: 'log' }] } },
      /spec\.guardrails\.input\[0\]: Invalid value: "object": action of type pii-detector must be one of scrub, reject, warn/,
    ],
    [
      'a guardrail missing a field its type needs',
      { guardrails: { input: [{ type: 'topic-filter', action: 'warn' }] } },
      /spec\.guardrails\.input\[0\]: Invalid value: "object": type topic-filter needs blockedTopics, action/,
    ],
    [
      'a subagent without a ref',
      { subagents: [{ name: 's', ref: {} }] },
      /spec\.subagents\[0\]\.ref: Invalid value: "object": set agentspec or a2a/,
    ],
    [
      'a temperature out of range',
      { model: { provider: 'a', id: 'b', parameters: { temperature: 3 } } },
      /spec\.model\.parameters\.temperature: Invalid value: 3: .*less than or equal to 2/,
    ],
  ])('rejects %s, naming the field', async (what, spec, message) => {
    const name = `bad-${what.replace(/[^a-z]+/g, '-').replace(/-$/, '')}`.slice(0, 63);
    await expect(apply(agent(spec, name))).rejects.toThrow(message);
  });

  it('rejects a name that cannot name a Service', async () => {
    await expect(apply(agent({}, 'a'.repeat(64)))).rejects.toThrow(
      /metadata\.name must be an RFC 1123 label of at most 63 characters/,
    );
  });
});
