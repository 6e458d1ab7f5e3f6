import { z } from 'zod';

/** `$func:` names a manifest may use. */
export const REFERENCE_FUNCTIONS = ['now_iso', 'now_unix', 'now_date'] as const;

export type ReferenceType = 'env' | 'secret' | 'file' | 'func';

/** The one grammar of references: `$` + kind + `:` + target. */
const REFERENCE = /^\$(env|secret|file|func):(.*)$/;

/** The kind and target of a reference, or undefined for a literal (or a target left empty). */
export function parseReference(value: string): { kind: ReferenceType; target: string } | undefined {
  const [, kind, target] = REFERENCE.exec(value) ?? [];
  return kind && target ? { kind: kind as ReferenceType, target } : undefined;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_NAME = /^[A-Za-z0-9_.-]+$/;

/** Why a reference string is malformed, or undefined when it is a literal or a well-formed reference. */
export function referenceProblem(value: string): string | undefined {
  if (!value.startsWith('$')) return undefined;
  const [, kind, rest] = REFERENCE.exec(value) ?? [];
  if (kind === undefined || rest === undefined) {
    if (/^\$[a-z]+:/.test(value))
      return `unknown reference "${value.split(':')[0]}:" (use $env:, $secret:, $file: or $func:)`;
    return undefined; // a literal that happens to start with "$"
  }
  switch (kind) {
    case 'env':
      return ENV_NAME.test(rest) ? undefined : `$env: needs an environment variable name, got "${rest}"`;
    case 'secret':
      return SECRET_NAME.test(rest) ? undefined : `$secret: needs a secret name ([A-Za-z0-9_.-]), got "${rest}"`;
    case 'file':
      if (rest === '') return '$file: needs a path';
      if (rest.startsWith('/') || rest.split(/[\\/]/).includes('..')) {
        return `$file: path "${rest}" must be relative and stay inside the manifest's directory`;
      }
      return undefined;
    case 'func':
      return (REFERENCE_FUNCTIONS as readonly string[]).includes(rest)
        ? undefined
        : `unknown $func:${rest} (use one of ${REFERENCE_FUNCTIONS.join(', ')})`;
  }
  return undefined;
}

/**
 * The JSON Schema keyword marking a reference-or-literal string in the exported schema (the Python SDK checks the
 * reference grammar there); the CRD generator leaves it out.
 */
export const REFERENCE_KEYWORD = 'x-agentspec-reference';

/** A literal string or a reference: `$env:NAME`, `$secret:NAME`, `$file:path`, `$func:now_iso|now_unix|now_date`. */
export const ref = (description: string) =>
  z
    .string()
    .superRefine((value, ctx) => {
      const problem = referenceProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({ [REFERENCE_KEYWORD]: true })
    .describe(
      `${description} A literal or a reference: $env:NAME, $secret:NAME, $file:path, $func:now_iso|now_unix|now_date.`,
    );
