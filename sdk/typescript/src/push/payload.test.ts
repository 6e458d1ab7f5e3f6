import { describe, expect, it } from 'vitest';
import type { AuditResult } from '../audit/types.js';
import { summarize, type HealthCheck } from '../health/types.js';
import { buildPushPayload, MAX_PAYLOAD_BYTES } from './payload.js';
import { redact } from './redact.js';

const gap: AuditResult = {
  score: 82,
  grade: 'B',
  violations: [],
  packs: [],
  suppressed: [],
  rulesChecked: 27,
  warnings: [],
};

function check(i: number, status: HealthCheck['status'], text = 'x'): HealthCheck {
  return {
    id: `tool:t${i}`,
    category: 'tool',
    status,
    severity: status === 'fail' ? 'error' : 'info',
    message: text,
    remediation: text,
  };
}

describe('buildPushPayload', () => {
  it('leaves a payload under the cap untouched', () => {
    const health = summarize('a', [check(1, 'pass')]);
    expect(buildPushPayload(health, gap)).toEqual({ health, gap });
  });

  it('trims the largest parts to fit 64 KB, keeping summary, status, score and grade, and marks it truncated', () => {
    const long = 'y'.repeat(2_000);
    const checks = [
      ...Array.from({ length: 200 }, (_, i) => check(i, 'pass', long)),
      ...Array.from({ length: 5 }, (_, i) => check(1000 + i, 'fail', long)),
    ];
    const health = summarize('big', checks);
    expect(JSON.stringify({ health, gap }).length).toBeGreaterThan(MAX_PAYLOAD_BYTES);
    const payload = buildPushPayload(health, gap);
    expect(Buffer.byteLength(JSON.stringify(payload))).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(payload.truncated).toBe(true);
    expect(payload.health.summary).toEqual({ passed: 200, failed: 5, warnings: 0, skipped: 0 });
    expect(payload.health.status).toBe('unhealthy');
    expect(payload.gap).toMatchObject({ score: 82, grade: 'B' });
    // failing checks are what matters: they survive, shortened
    expect(payload.health.checks.filter((c) => c.status === 'fail')).toHaveLength(5);
    expect(payload.health.checks[0]?.message?.length).toBeLessThanOrEqual(200);
  });

  it('cuts lists to their most severe entries when nothing else helps', () => {
    const checks = Array.from({ length: 2_000 }, (_, i) => ({
      ...check(i, 'fail', 'z'.repeat(150)),
      severity: (i % 2 ? 'info' : 'error') as HealthCheck['severity'],
    }));
    const payload = buildPushPayload(summarize('huge', checks), gap, 16 * 1024);
    expect(Buffer.byteLength(JSON.stringify(payload))).toBeLessThanOrEqual(16 * 1024);
    expect(payload.health.checks.length).toBeGreaterThan(0);
    expect(payload.health.checks.every((c) => c.severity === 'error')).toBe(true);
  });

  it('cuts the manifest warnings too, keeping the first', () => {
    const warnings = Array.from({ length: 1_000 }, (_, i) => ({
      field: `spec.tools[${i}].name`,
      message: 'w'.repeat(100),
    }));
    const payload = buildPushPayload(summarize('warned', []), { ...gap, warnings }, 16 * 1024);
    expect(Buffer.byteLength(JSON.stringify(payload))).toBeLessThanOrEqual(16 * 1024);
    expect(payload.gap.warnings.length).toBeGreaterThan(0);
    expect(payload.gap.warnings[0]).toEqual(warnings[0]);
  });
});

describe('redact', () => {
  it('removes given secrets, JWTs and Bearer credentials', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJlLXNpZw';
    expect(redact(`key=sk-live-1234 token ${jwt}`, ['sk-live-1234'])).toBe('key=[REDACTED] token [REDACTED]');
    expect(redact('Authorization: Bearer abc.def')).toBe('Authorization: Bearer [REDACTED]');
    expect(redact('nothing to hide', [undefined, ''])).toBe('nothing to hide');
  });
});

describe('summarize', () => {
  it('is unhealthy with a failed error check, degraded with only warnings, healthy otherwise', () => {
    expect(summarize('a', [check(1, 'fail')]).status).toBe('unhealthy');
    expect(
      summarize('a', [{ ...check(1, 'fail'), severity: 'warning' }, check(2, 'pass'), check(3, 'skip')]),
    ).toMatchObject({
      status: 'degraded',
      summary: { passed: 1, failed: 0, warnings: 1, skipped: 1 },
    });
    expect(summarize('a', [check(1, 'pass'), check(2, 'skip')]).status).toBe('healthy');
    expect(summarize('a', [], new Date(0)).timestamp).toBe('1970-01-01T00:00:00.000Z');
  });
});
