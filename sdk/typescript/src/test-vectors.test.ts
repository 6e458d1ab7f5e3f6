import { describe, expect, it } from 'vitest';
import {
  auditOf,
  errorPathsOf,
  healthOf,
  readVectors,
  type AuditVector,
  type ErrorVector,
  type HealthVector,
} from './test-vectors.js';

// The same vectors run in the Python SDK's tests (sdk/python/tests/test_vectors.py).
describe('shared test vectors (sdk/test-vectors)', () => {
  it.each(readVectors<AuditVector>('audit.json').vectors.map((v) => [v.name, v] as const))('audit: %s', (_, v) => {
    expect(auditOf(v)).toBe(v.expected);
  });
  it.each(readVectors<HealthVector>('health.json').vectors.map((v) => [v.name, v] as const))(
    'health report: %s',
    async (_, v) => {
      expect(await healthOf(v)).toBe(v.expected);
    },
  );
  it.each(readVectors<ErrorVector>('manifest-errors.json').vectors.map((v) => [v.name, v] as const))(
    'manifest errors: %s',
    (_, v) => {
      expect(errorPathsOf(v)).toEqual(v.expectedPaths);
      expect(v.expectedPaths?.length).toBeGreaterThan(0);
    },
  );
});
