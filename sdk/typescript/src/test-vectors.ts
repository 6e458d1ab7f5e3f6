import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runAudit } from './audit/run-audit.js';
import { runHealthChecks } from './health/checks.js';
import { summarize, type CheckCategory } from './health/types.js';
import { ManifestError } from './manifest/errors.js';
import { parseManifest } from './manifest/load.js';

/**
 * The test vectors both SDKs run (sdk/test-vectors): manifests and health inputs with the exact JSON (or the fields
 * named) the TypeScript SDK produces. `make test-vectors` writes the expected values; the Python SDK's tests must
 * reproduce them byte for byte.
 */
export const VECTORS_DIR = resolve(import.meta.dirname, '..', '..', 'test-vectors');

interface AuditVector {
  name: string;
  today: string;
  manifest: unknown;
  expected: string | null;
}
interface HealthVector {
  name: string;
  now: string;
  manifest: unknown;
  env: Record<string, string>;
  registeredTools: string[] | null;
  categories: CheckCategory[] | null;
  expected: string | null;
}
interface ErrorVector {
  name: string;
  manifest: unknown;
  expectedPaths: string[] | null;
}
interface VectorFile<T> {
  $comment: string;
  vectors: T[];
}

export const readVectors = <T>(name: string): VectorFile<T> =>
  JSON.parse(readFileSync(resolve(VECTORS_DIR, name), 'utf8')) as VectorFile<T>;

export function auditOf(vector: AuditVector): string {
  return JSON.stringify(
    runAudit(parseManifest(vector.manifest).manifest, { now: new Date(`${vector.today}T12:00:00Z`) }),
  );
}

export async function healthOf(vector: HealthVector): Promise<string> {
  const { manifest } = parseManifest(vector.manifest, { baseDir: VECTORS_DIR });
  const checks = await runHealthChecks(manifest, {
    baseDir: VECTORS_DIR,
    env: vector.env,
    ...(vector.registeredTools ? { registeredTools: new Set(vector.registeredTools) } : {}),
    ...(vector.categories ? { categories: vector.categories } : {}),
  });
  return JSON.stringify(summarize(manifest.metadata.name, checks, new Date(vector.now)));
}

/** The fields a ManifestError names, sorted and unique (the wording of messages may differ between SDKs). */
export function errorPathsOf(vector: ErrorVector): string[] {
  try {
    parseManifest(vector.manifest);
  } catch (err) {
    if (err instanceof ManifestError) return [...new Set(err.issues.map((i) => i.path))].sort();
    throw err;
  }
  return [];
}

/** `make test-vectors`: (re)writes every vector's expected value from this SDK. */
export async function writeVectors(): Promise<void> {
  const write = (name: string, file: VectorFile<unknown>): void =>
    writeFileSync(resolve(VECTORS_DIR, name), `${JSON.stringify(file, null, 1)}\n`);
  const audit = readVectors<AuditVector>('audit.json');
  for (const v of audit.vectors) v.expected = auditOf(v);
  write('audit.json', audit);
  const health = readVectors<HealthVector>('health.json');
  for (const v of health.vectors) v.expected = await healthOf(v);
  write('health.json', health);
  const errors = readVectors<ErrorVector>('manifest-errors.json');
  for (const v of errors.vectors) v.expectedPaths = errorPathsOf(v);
  write('manifest-errors.json', errors);
}

export type { AuditVector, ErrorVector, HealthVector };
