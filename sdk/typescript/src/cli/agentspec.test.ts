import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../manifest/load.js';
import { EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_OK, runCli } from './agentspec.js';

const root = resolve(import.meta.dirname, '..', '..', '..', '..');
const coach = join(root, 'examples', 'fitness-coach', 'agent.yaml');
const minimal = join(root, 'examples', 'minimal', 'agent.yaml');
const upstream = join(root, 'sdk', 'typescript', 'fixtures', 'upstream-every-field.yaml');

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) }, {});
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'agentspec-cli-'));
const invalid = join(dir, 'invalid.yaml');
writeFileSync(
  invalid,
  'apiVersion: agentspec.io/v1\nkind: Agent\nmetadata: {name: bad}\nspec: {description: d, version: 1.0.0, model: {provider: a, id: b}, prompts: {system: s}, tools: [{name: t, type: function, annotations: {destructiveHint: "yes"}}]}\n',
);

describe('agentspec validate', async () => {
  it('accepts a valid manifest', async () => {
    expect(await cli('validate', coach)).toEqual({
      code: EXIT_OK,
      out: 'ok: fitness-coach (kind Agent, version 1.2.0) is valid\n',
      err: '',
    });
  });

  it('fails with every problem named by its field', async () => {
    const result = await cli('validate', invalid);
    expect(result.code).toBe(EXIT_CHECK_FAILED);
    expect(result.err).toContain('spec.tools[0].annotations.destructiveHint: expected boolean, got string');
  });

  it('loads what upstream accepts but only describes, and warns on stderr naming the field (issue #20)', async () => {
    const lenient = join(dir, 'lenient.yaml');
    writeFileSync(
      lenient,
      'apiVersion: agentspec.io/v1\nkind: AgentSpec\nmetadata: {name: cost, version: 1.0.0, description: d}\nspec: {model: {provider: a, id: b, costControls: {maxMonthlyUSD: 10, alertAtUSD: 20}}, prompts: {system: s}}\n',
    );
    const warning = 'warning: spec.model.costControls.alertAtUSD: 20 is above maxMonthlyUSD (10)';
    const validated = await cli('validate', lenient);
    expect(validated.code).toBe(EXIT_OK);
    expect(validated.out).toBe('ok: cost (kind AgentSpec, version 1.0.0) is valid\n');
    expect(validated.err).toContain(warning);
    const audited = await cli('audit', lenient);
    expect(audited.code).toBe(EXIT_OK);
    expect(audited.err).toContain(warning);
    const json = JSON.parse((await cli('validate', lenient, '--json')).out) as { warnings: { field: string }[] };
    expect(json.warnings.map((w) => w.field)).toEqual(['spec.model.costControls.alertAtUSD']);
  });

  it('prints {valid, issues} with --json', async () => {
    expect(JSON.parse((await cli('validate', coach, '--json')).out)).toEqual({
      valid: true,
      name: 'fitness-coach',
      kind: 'Agent',
      issues: [],
      warnings: [],
    });
    const result = await cli('validate', invalid, '--json');
    expect(result.code).toBe(EXIT_CHECK_FAILED);
    expect(JSON.parse(result.out)).toEqual({
      valid: false,
      issues: [{ path: 'spec.tools[0].annotations.destructiveHint', message: 'expected boolean, got string' }],
    });
  });

  it('treats usage mistakes and missing files as bad input', async () => {
    expect((await cli('validate')).code).toBe(EXIT_BAD_INPUT);
    expect((await cli('validate', join(dir, 'missing.yaml'))).code).toBe(EXIT_CHECK_FAILED);
    expect((await cli('frobnicate')).err).toContain('unknown command "frobnicate"');
    expect((await cli()).code).toBe(EXIT_BAD_INPUT);
    expect((await cli('--help')).code).toBe(EXIT_OK);
  });
});

describe('agentspec audit', async () => {
  it('prints score, grade, packs and violations for people', async () => {
    const { code, out } = await cli('audit', minimal);
    expect(code).toBe(EXIT_OK);
    expect(out).toContain('hello-agent (kind Agent, version 0.1.0): score 50/100, grade D (27 rules checked)');
    expect(out).toContain('[high] MODEL-01 Fallback model configured');
  });

  it('prints the AuditResult with --json', async () => {
    const result = JSON.parse((await cli('audit', minimal, '--json')).out) as {
      score: number;
      grade: string;
      violations: { ruleId: string }[];
    };
    expect(result.score).toBe(50);
    expect(result.grade).toBe('D');
    expect(result.violations.map((v) => v.ruleId)).toContain('SEC-LLM-10');
  });

  it('exits 1 below --fail-below and 0 at or above it', async () => {
    expect(await cli('audit', minimal, '--fail-below', '51')).toMatchObject({
      code: EXIT_CHECK_FAILED,
      err: 'score 50 is below 51\n',
    });
    expect((await cli('audit', minimal, '--fail-below', '50')).code).toBe(EXIT_OK);
    expect(await cli('audit', minimal, '--fail-below', 'high')).toMatchObject({ code: EXIT_BAD_INPUT });
    expect((await cli('audit', invalid)).code).toBe(EXIT_BAD_INPUT);
  });
});

describe('agentspec convert', async () => {
  it('prints a kind: Agent resource equivalent to the upstream file', async () => {
    const { code, out } = await cli('convert', upstream, '--namespace', 'coaching');
    expect(code).toBe(EXIT_OK);
    const resource = parse(out) as { kind: string; metadata: { namespace: string } };
    expect(resource.kind).toBe('Agent');
    expect(resource.metadata.namespace).toBe('coaching');
    expect(parseManifest(resource).manifest.metadata.name).toBe('gymcoach');
  });

  it('refuses a file that is already kind: Agent', async () => {
    expect(await cli('convert', coach)).toMatchObject({
      code: EXIT_BAD_INPUT,
      err: 'agentspec: the manifest is already kind: Agent\n',
    });
  });
});

describe('agentspec health', () => {
  it('runs the checks it can run from here and fails when a check of severity error fails', async () => {
    const { code, out } = await cli('health', minimal, '--category', 'env');
    expect(code).toBe(EXIT_CHECK_FAILED);
    expect(out).toContain(
      'hello-agent (kind Agent, version 0.1.0): unhealthy (0 passed, 1 failed, 0 warnings, 0 skipped)',
    );
    expect(out).toContain('fail env:OPENAI_API_KEY — OPENAI_API_KEY is not set (used by spec.model.apiKey)');
  });

  it('prints the HealthReport with --json and refuses unknown categories', async () => {
    const report = JSON.parse((await cli('health', minimal, '--category', 'mcp', '--json')).out) as {
      status: string;
      checks: unknown[];
    };
    expect(report).toMatchObject({ status: 'healthy', checks: [] });
    expect(await cli('health', minimal, '--category', 'tool')).toMatchObject({ code: EXIT_BAD_INPUT });
  });
});

describe('agentspec register', () => {
  it('needs a control plane and the admin key from the environment', async () => {
    expect((await cli('register', minimal)).err).toContain('register needs --control-plane URL');
    expect((await cli('register', minimal, '--control-plane', 'http://127.0.0.1:1')).err).toContain(
      'AGENTSPEC_ADMIN_KEY',
    );
  });
});
