import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { referenceProblem } from './refs.js';
import { resolveRef, secretEnvName } from './resolve-ref.js';

const outside = mkdtempSync(join(tmpdir(), 'agentspec-outside-'));
writeFileSync(join(outside, 'secret.txt'), 'top secret');
const baseDir = mkdtempSync(join(tmpdir(), 'agentspec-refs-'));
mkdirSync(join(baseDir, 'prompts'));
writeFileSync(join(baseDir, 'prompts', 'system.md'), 'You coach.');
symlinkSync(join(outside, 'secret.txt'), join(baseDir, 'prompts', 'escape.md'));
const secretsDir = mkdtempSync(join(tmpdir(), 'agentspec-secrets-'));
writeFileSync(join(secretsDir, 'groq-key'), 'gsk_from_file\n');

describe('resolveRef', () => {
  const options = { baseDir, secretsDir, env: { GROQ_API_KEY: 'gsk_env', [secretEnvName('openai-key')]: 'sk_env' } };

  it('passes literals through', () => {
    expect(resolveRef('plain text', options)).toEqual({ kind: 'literal', value: 'plain text' });
  });

  it('reads $env: and reports unset variables', () => {
    expect(resolveRef('$env:GROQ_API_KEY', options)).toEqual({ kind: 'env', target: 'GROQ_API_KEY', value: 'gsk_env' });
    expect(resolveRef('$env:MISSING', options)).toEqual({
      kind: 'env',
      target: 'MISSING',
      problem: 'environment variable MISSING is not set',
    });
  });

  it('reads $secret: from AGENTSPEC_SECRET_<NAME>, then from a mounted file', () => {
    expect(secretEnvName('openai-key')).toBe('AGENTSPEC_SECRET_OPENAI_KEY');
    expect(resolveRef('$secret:openai-key', options).value).toBe('sk_env');
    expect(resolveRef('$secret:groq-key', options).value).toBe('gsk_from_file');
    expect(resolveRef('$secret:nope', options).problem).toBe(
      `secret nope not found (set AGENTSPEC_SECRET_NOPE or mount it at ${join(secretsDir, 'nope')})`,
    );
  });

  it('reads $file: inside the manifest directory and refuses to follow a link out of it', () => {
    expect(resolveRef('$file:prompts/system.md', options)).toEqual({
      kind: 'file',
      target: 'prompts/system.md',
      value: 'You coach.',
    });
    const escaped = resolveRef('$file:prompts/escape.md', options);
    expect(escaped).toEqual({
      kind: 'file',
      target: 'prompts/escape.md',
      problem: "file prompts/escape.md is outside the manifest's directory",
    });
    expect(resolveRef('$file:prompts/none.md', options).problem).toBe(
      'file prompts/none.md not found next to the manifest',
    );
  });

  it('computes $func: values', () => {
    const now = () => new Date('2026-11-23T10:20:30.000Z');
    expect(resolveRef('$func:now_iso', { ...options, now }).value).toBe('2026-11-23T10:20:30.000Z');
    expect(resolveRef('$func:now_unix', { ...options, now }).value).toBe('1795429230');
    expect(resolveRef('$func:now_date', { ...options, now }).value).toBe('2026-11-23');
  });
});

describe('referenceProblem', () => {
  it.each([
    ['$env:OPENAI_API_KEY', undefined],
    ['$env:1BAD', '$env: needs an environment variable name, got "1BAD"'],
    ['$secret:db/url', '$secret: needs a secret name ([A-Za-z0-9_.-]), got "db/url"'],
    ['$file:/etc/passwd', `$file: path "/etc/passwd" must be relative and stay inside the manifest's directory`],
    [
      '$file:prompts/../../x',
      `$file: path "prompts/../../x" must be relative and stay inside the manifest's directory`,
    ],
    ['$vault:x', 'unknown reference "$vault:" (use $env:, $secret:, $file: or $func:)'],
    ['$5 per month', undefined],
  ])('%s', (value, problem) => {
    expect(referenceProblem(value)).toBe(problem);
  });
});
