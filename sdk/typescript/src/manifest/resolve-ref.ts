import { parseReference, type ReferenceType } from './refs.js';
import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';

export type ReferenceKind = 'literal' | ReferenceType;

export interface ResolvedReference {
  kind: ReferenceKind;
  /** The variable, secret, file or function named (not for literals). */
  target?: string;
  /** The value, when it could be resolved. */
  value?: string;
  /** Why it could not be resolved. */
  problem?: string;
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Directory of the manifest; `$file:` may not leave it. */
  baseDir: string;
  /**
   * Where `$secret:NAME` is looked up after the env var `AGENTSPEC_SECRET_<NAME>`: a file per secret, as a
   * mounted Kubernetes Secret provides. Default `AGENTSPEC_SECRETS_DIR` or /var/run/secrets/agentspec.
   */
  secretsDir?: string;
  now?: () => Date;
}

export function secretEnvName(name: string): string {
  return `AGENTSPEC_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function readInside(baseDir: string, path: string): ResolvedReference {
  const base = realpathSync(baseDir);
  let real: string;
  try {
    real = realpathSync(resolve(base, path));
  } catch {
    return { kind: 'file', target: path, problem: `file ${path} not found next to the manifest` };
  }
  const rel = relative(base, real);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    return { kind: 'file', target: path, problem: `file ${path} is outside the manifest's directory` };
  }
  return { kind: 'file', target: path, value: readFileSync(real, 'utf8') };
}

/** Resolves a literal-or-reference string at run time. */
export function resolveRef(raw: string, options: ResolveOptions): ResolvedReference {
  const env = options.env ?? process.env;
  const reference = parseReference(raw);
  if (!reference) return { kind: 'literal', value: raw };
  const { kind, target } = reference;
  switch (kind) {
    case 'env': {
      const value = env[target];
      return value === undefined || value === ''
        ? { kind: 'env', target, problem: `environment variable ${target} is not set` }
        : { kind: 'env', target, value };
    }
    case 'secret': {
      const fromEnv = env[secretEnvName(target)];
      if (fromEnv) return { kind: 'secret', target, value: fromEnv };
      const dir = options.secretsDir ?? env['AGENTSPEC_SECRETS_DIR'] ?? '/var/run/secrets/agentspec';
      try {
        return { kind: 'secret', target, value: readFileSync(join(dir, target), 'utf8').trim() };
      } catch {
        return {
          kind: 'secret',
          target,
          problem: `secret ${target} not found (set ${secretEnvName(target)} or mount it at ${join(dir, target)})`,
        };
      }
    }
    case 'file':
      return readInside(options.baseDir, target);
    case 'func': {
      const now = (options.now ?? (() => new Date()))();
      const value = {
        now_iso: now.toISOString(),
        now_unix: String(Math.floor(now.getTime() / 1000)),
        now_date: now.toISOString().slice(0, 10),
      }[target];
      return value === undefined
        ? { kind: 'func', target, problem: `unknown function ${target}` }
        : { kind: 'func', target, value };
    }
  }
  return { kind: 'literal', value: raw };
}
