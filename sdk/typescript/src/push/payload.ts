import type { AuditResult } from '../audit/types.js';
import type { HealthReport } from '../health/types.js';

export const MAX_PAYLOAD_BYTES = 64 * 1024;

export interface PushPayload {
  health: HealthReport;
  gap: AuditResult;
  /** Present when parts were dropped to fit MAX_PAYLOAD_BYTES. */
  truncated?: boolean;
}

const size = (payload: PushPayload): number => Buffer.byteLength(JSON.stringify(payload));

const shorten = (text: string | undefined, max: number): string | undefined =>
  text === undefined || text.length <= max ? text : `${text.slice(0, max - 1)}…`;

/**
 * Fits {health, gap} into `limit` bytes. Summary, status, score and grade always survive; then, in order until
 * it fits: long texts are shortened, passing checks are dropped, remediations are dropped, and the check and
 * violation lists are cut to their most severe entries (the manifest warnings to their first). A trimmed payload
 * carries `truncated: true`.
 */
export function buildPushPayload(health: HealthReport, gap: AuditResult, limit = MAX_PAYLOAD_BYTES): PushPayload {
  let payload: PushPayload = { health, gap };
  if (size(payload) <= limit) return payload;

  const steps: ((p: PushPayload) => PushPayload)[] = [
    (p) => ({
      ...p,
      health: {
        ...p.health,
        checks: p.health.checks.map((c) => ({
          ...c,
          message: shorten(c.message, 200),
          remediation: shorten(c.remediation, 200),
        })),
      },
      gap: {
        ...p.gap,
        violations: p.gap.violations.map((v) => ({
          ...v,
          message: shorten(v.message, 200) ?? '',
          remediation: shorten(v.remediation, 200) ?? '',
        })),
      },
    }),
    (p) => ({ ...p, health: { ...p.health, checks: p.health.checks.filter((c) => c.status !== 'pass') } }),
    (p) => ({
      ...p,
      health: { ...p.health, checks: p.health.checks.map(({ remediation: _r, ...c }) => c) },
      gap: { ...p.gap, violations: p.gap.violations.map((v) => ({ ...v, remediation: '' })) },
    }),
  ];
  for (const step of steps) {
    payload = { ...step(payload), truncated: true };
    if (size(payload) <= limit) return payload;
  }
  // Keep the most severe entries: halve both lists until it fits.
  const severityRank = { error: 0, critical: 0, warning: 1, high: 1, medium: 2, info: 3, low: 3 } as Record<
    string,
    number
  >;
  const checks = [...payload.health.checks].sort(
    (a, b) => (severityRank[a.severity] ?? 9) - (severityRank[b.severity] ?? 9),
  );
  const violations = [...payload.gap.violations].sort(
    (a, b) => (severityRank[a.severity] ?? 9) - (severityRank[b.severity] ?? 9),
  );
  const { warnings } = payload.gap;
  let keep = Math.max(checks.length, violations.length, warnings.length);
  while (keep > 0) {
    keep = Math.floor(keep / 2);
    payload = {
      health: { ...payload.health, checks: checks.slice(0, keep) },
      gap: {
        ...payload.gap,
        violations: violations.slice(0, keep),
        packs: keep ? payload.gap.packs : [],
        warnings: warnings.slice(0, keep),
      },
      truncated: true,
    };
    if (size(payload) <= limit) return payload;
  }
  return payload;
}
