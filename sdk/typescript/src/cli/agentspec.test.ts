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

function cli(...argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runCli(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'agentspec-cli-'));
const invalid = join(dir, 'invalid.yaml');
writeFileSync(
  invalid,
  'apiVersion: agentspec.io/v1\nkind: Agent\nmetadata: {name: bad}\nspec: {description: d, version: 1.0.0, model: {provider: a, id: b}, prompts: {system: s}, tools: [{name: t, type: function, annotations: {destructiveHint: "yes"}}]}\n',
);

describe('agentspec validate', () => {
  it('accepts a valid manifest', () => {
    expect(cli('validate', coach)).toEqual({
      code: EXIT_OK,
      out: 'ok: fitness-coach (kind Agent, version 1.2.0) is valid\n',
      err: '',
    });
  });

  it('fails with every problem named by its field', () => {
    const result = cli('validate', invalid);
    expect(result.code).toBe(EXIT_CHECK_FAILED);
    expect(result.err).toContain('spec.tools[0].annotations.destructiveHint: expected boolean, got string');
  });

  it('treats usage mistakes and missing files as bad input', () => {
    expect(cli('validate').code).toBe(EXIT_BAD_INPUT);
    expect(cli('validate', join(dir, 'missing.yaml')).code).toBe(EXIT_CHECK_FAILED);
    expect(cli('frobnicate').err).toContain('unknown command "frobnicate"');
    expect(cli().code).toBe(EXIT_BAD_INPUT);
    expect(cli('--help').code).toBe(EXIT_OK);
  });
});

describe('agentspec audit', () => {
  it('prints score, grade, packs and violations for people', () => {
    const { code, out } = cli('audit', minimal);
    expect(code).toBe(EXIT_OK);
    expect(out).toContain('hello-agent (kind Agent, version 0.1.0): score 50/100, grade D (27 rules checked)');
    expect(out).toContain('[high] MODEL-01 Fallback model configured');
  });

  it('prints the AuditResult with --json', () => {
    const result = JSON.parse(cli('audit', minimal, '--json').out) as {
      score: number;
      grade: string;
      violations: { ruleId: string }[];
    };
    expect(result.score).toBe(50);
    expect(result.grade).toBe('D');
    expect(result.violations.map((v) => v.ruleId)).toContain('SEC-LLM-10');
  });

  it('exits 1 below --fail-below and 0 at or above it', () => {
    expect(cli('audit', minimal, '--fail-below', '51')).toMatchObject({
      code: EXIT_CHECK_FAILED,
      err: 'score 50 is below 51\n',
    });
    expect(cli('audit', minimal, '--fail-below', '50').code).toBe(EXIT_OK);
    expect(cli('audit', minimal, '--fail-below', 'high')).toMatchObject({ code: EXIT_BAD_INPUT });
    expect(cli('audit', invalid).code).toBe(EXIT_BAD_INPUT);
  });
});

describe('agentspec convert', () => {
  it('prints a kind: Agent resource equivalent to the upstream file', () => {
    const { code, out } = cli('convert', upstream, '--namespace', 'coaching');
    expect(code).toBe(EXIT_OK);
    const resource = parse(out) as { kind: string; metadata: { namespace: string } };
    expect(resource.kind).toBe('Agent');
    expect(resource.metadata.namespace).toBe('coaching');
    expect(parseManifest(resource).manifest.metadata.name).toBe('gymcoach');
  });

  it('refuses a file that is already kind: Agent', () => {
    expect(cli('convert', coach)).toMatchObject({
      code: EXIT_BAD_INPUT,
      err: 'agentspec: the manifest is already kind: Agent\n',
    });
  });
});
