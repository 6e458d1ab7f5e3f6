import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../audit/run-audit.js';
import { convertToAgentResource } from './convert.js';
import { ManifestError } from './errors.js';
import { loadManifest, parseManifest, parseManifestText } from './load.js';

const root = resolve(import.meta.dirname, '..', '..', '..', '..');
const fixture = resolve(import.meta.dirname, '..', '..', 'fixtures', 'upstream-every-field.yaml');

const minimal = () => ({
  apiVersion: 'agentspec.io/v1',
  kind: 'Agent',
  metadata: { name: 'demo' },
  spec: {
    description: 'A demo.',
    version: '1.0.0',
    model: { provider: 'openai', id: 'gpt-4o' },
    prompts: { system: 'hi' },
  },
});

function issuesOf(document: unknown): string[] {
  try {
    parseManifest(document);
  } catch (err) {
    if (err instanceof ManifestError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
}

describe('loadManifest', () => {
  it('loads an upstream kind: AgentSpec file that uses every field users have', () => {
    const { manifest, kind, baseDir } = loadManifest(fixture);
    expect(kind).toBe('AgentSpec');
    expect(baseDir).toBe(resolve(fixture, '..'));
    expect(manifest.metadata).toMatchObject({ name: 'gymcoach', version: '2.1.0', tags: ['fitness'], license: 'MIT' });
    expect(manifest.spec.guardrails?.input?.map((g) => g.type)).toEqual([
      'topic-filter',
      'pii-detector',
      'prompt-injection',
      'custom',
    ]);
    expect(manifest.spec.subagents?.[1]?.ref.a2a?.auth?.type).toBe('bearer');
    expect(manifest.spec.mcp?.servers?.[0]?.healthCheck?.timeoutSeconds).toBe(10);
    expect(manifest.spec.evaluation?.thresholds).toEqual({ faithfulness: 0.9, hallucination: 0.05 });
    expect(manifest.spec.compliance?.suppressions?.[0]).toMatchObject({ rule: 'SEC-LLM-03', expires: '2099-12-31' });
  });

  it('applies the documented defaults', () => {
    const { manifest } = parseManifest({
      ...minimal(),
      spec: {
        ...minimal().spec,
        mcp: { servers: [{ name: 'm', transport: 'http', url: 'http://x', healthCheck: {} }] },
        api: { chatEndpoint: {} },
      },
    });
    expect(manifest.spec.prompts.hotReload).toBe(false);
    expect(manifest.spec.mcp?.servers?.[0]?.healthCheck?.timeoutSeconds).toBe(5);
    expect(manifest.spec.api?.chatEndpoint).toEqual({ path: '/v1/chat', threadIdHeader: 'X-Thread-Id' });
  });

  it('normalises the kind: Agent form to the AgentSpec shape and keeps the deployment block', () => {
    const loaded = loadManifest(join(root, 'examples', 'fitness-coach', 'agent.yaml'));
    expect(loaded.kind).toBe('Agent');
    expect(loaded.manifest.kind).toBe('AgentSpec');
    expect(loaded.manifest.metadata).toMatchObject({
      name: 'fitness-coach',
      version: '1.2.0',
      author: 'platform-team',
    });
    expect(loaded.manifest.spec).not.toHaveProperty('deployment');
    expect(loaded.manifest.spec).not.toHaveProperty('version');
    expect(loaded.deployment).toMatchObject({
      image: 'agentspec/example-fitness-coach:0.1.0',
      replicas: 1,
      port: 8000,
    });
  });

  it('gives the same manifest for an upstream file and its conversion to kind: Agent', () => {
    const document = parse(readFixture());
    const converted = convertToAgentResource(document, { namespace: 'team-a' });
    expect(converted).toMatchObject({ kind: 'Agent', metadata: { name: 'gymcoach', namespace: 'team-a' } });
    expect(parseManifest(converted).manifest).toEqual(parseManifest(document).manifest);
    expect(() => convertToAgentResource(converted)).toThrow('already kind: Agent');
  });

  it('names the file when it cannot be read', () => {
    expect(() => loadManifest('/no/such/agent.yaml')).toThrow(
      '/no/such/agent.yaml: invalid agent manifest:\n  file not found',
    );
  });
});

function readFixture(): string {
  return readFileSync(fixture, 'utf8');
}

describe('leniency where upstream is lenient', () => {
  it('a blank description loads (upstream accepts it) and the audit reports META-01', () => {
    const loaded = parseManifest({ ...minimal(), spec: { ...minimal().spec, description: '   ' } });
    expect(loaded.manifest.metadata.description).toBe('   ');
    expect(runAudit(loaded.manifest).violations.map((v) => v.ruleId)).toContain('META-01');
  });
});

describe('manifest errors name the field', () => {
  const withSpec = (spec: Record<string, unknown>) => ({ ...minimal(), spec: { ...minimal().spec, ...spec } });
  const tools = [
    { name: 'a', type: 'function' },
    { name: 'b', type: 'function' },
    { name: 'c', type: 'function', annotations: { destructiveHint: 'yes' } },
  ];

  it.each([
    ['a wrong type', withSpec({ tools }), 'spec.tools[2].annotations.destructiveHint: expected boolean, got string'],
    ['an unknown key', withSpec({ modle: {} }), 'spec.modle: unknown field'],
    [
      'a missing required field',
      { ...minimal(), spec: { ...minimal().spec, model: undefined } },
      'spec.model: is required',
    ],
    [
      'a value outside its enum',
      withSpec({ api: { type: 'soap' } }),
      'spec.api.type: expected one of "rest", "mcp", "grpc", "websocket"',
    ],
    [
      'an unknown guardrail type',
      withSpec({ guardrails: { output: [{ type: 'prompt-injection', action: 'reject' }] } }),
      'spec.guardrails.output[0].type: expected one of hallucination-detector, toxicity-filter, pii-detector, custom',
    ],
    [
      'an action the guardrail type does not allow',
      withSpec({ guardrails: { input: [{ type: 'pii-detector', action: 'log' }] } }),
      'spec.guardrails.input[0].action: expected one of "scrub", "reject", "warn"',
    ],
    [
      'a number out of range',
      withSpec({ model: { provider: 'a', id: 'b', parameters: { temperature: 3 } } }),
      'spec.model.parameters.temperature: must be <= 2',
    ],
    [
      'a cross-field rule',
      withSpec({ subagents: [{ name: 's', ref: {} }] }),
      'spec.subagents[0].ref: set agentspec or a2a',
    ],
    ['a bad version', withSpec({ version: '1.0' }), 'spec.version: must be a version X.Y.Z'],
    ['an empty description', withSpec({ description: '' }), 'spec.description: must not be empty'],
    [
      'a $file outside the manifest directory',
      withSpec({ prompts: { system: '$file:../secrets.txt' } }),
      `spec.prompts.system: $file: path "../secrets.txt" must be relative and stay inside the manifest's directory`,
    ],
    [
      'an unknown $func',
      withSpec({ prompts: { system: '$func:rand' } }),
      'spec.prompts.system: unknown $func:rand (use one of now_iso, now_unix, now_date)',
    ],
    [
      'a bad suppression date',
      withSpec({ compliance: { suppressions: [{ rule: 'X', reason: 'y', expires: 'soon' }] } }),
      'spec.compliance.suppressions[0].expires: expected a date YYYY-MM-DD',
    ],
    [
      'a name that is not a DNS label',
      { ...minimal(), metadata: { name: 'Demo_1' } },
      'metadata.name: must be an RFC 1123 label ([a-z0-9-], starting and ending alphanumeric)',
    ],
    ['an unknown kind', { ...minimal(), kind: 'Agnet' }, 'kind: expected "Agent" or "AgentSpec"'],
  ])('reports %s', (_what, document, expected) => {
    expect(issuesOf(document)).toContain(expected);
  });

  it('never echoes the value of a wrongly typed field (it may be a secret)', () => {
    const error = (() => {
      try {
        parseManifest(withSpec({ model: { provider: 'a', id: 'b', apiKey: 987654321 } }));
      } catch (err) {
        return err as ManifestError;
      }
      throw new Error('expected an error');
    })();
    expect(error.message).toContain('spec.model.apiKey: expected string, got number');
    expect(error.message).not.toContain('987654321');
  });

  it('reports YAML syntax errors and multiple documents', () => {
    expect(() => parseManifestText('kind: [Agent')).toThrow(/YAML:/);
    expect(() => parseManifestText('kind: Agent\n---\nkind: Agent\n')).toThrow('expected one YAML document, found 2');
    expect(() => parseManifestText('')).toThrow(/expected a mapping|empty/);
  });

  it('validates the examples shipped with the repository', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentspec-load-'));
    const path = join(dir, 'agent.yaml');
    writeFileSync(
      path,
      'apiVersion: agentspec.io/v1\nkind: AgentSpec\nmetadata: {name: x, version: 1.0.0, description: d}\nspec: {}\n',
    );
    expect(() => loadManifest(path)).toThrow(
      `${path}: invalid agent manifest:\n  spec.model: is required\n  spec.prompts: is required`,
    );
  });
});
