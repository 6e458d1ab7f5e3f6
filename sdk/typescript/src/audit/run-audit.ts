import { COMPLIANCE_PACKS } from '../manifest/schema.js';
import type { AgentManifest } from '../manifest/load.js';
import { manifestWarnings } from '../manifest/warnings.js';
import { gradeFor } from './grade.js';
import { AUDIT_RULES, SEVERITY_WEIGHT, type AuditRule } from './rules.js';
import type { AuditResult, AuditViolation, PackResult } from './types.js';

export interface AuditOptions {
  /** "Today", for suppression expiry. */
  now?: Date;
}

function scoreOf(rules: readonly AuditRule[], failed: ReadonlySet<string>): number {
  const total = rules.reduce((sum, r) => sum + SEVERITY_WEIGHT[r.severity], 0);
  if (total === 0) return 100;
  const passed = rules.filter((r) => !failed.has(r.id)).reduce((sum, r) => sum + SEVERITY_WEIGHT[r.severity], 0);
  return Math.round((100 * passed) / total);
}

/**
 * Audits a manifest against the compliance packs it selects (all when none): score =
 * round(100 × passed weight / total weight) with weights critical 4, high 3, medium 2, low 1.
 * A suppression that has not expired removes its rule from the weights; an expired one does nothing.
 */
export function runAudit(manifest: AgentManifest, options: AuditOptions = {}): AuditResult {
  const today = (options.now ?? new Date()).toISOString().slice(0, 10);
  const selected = manifest.spec.compliance?.packs?.length ? manifest.spec.compliance.packs : COMPLIANCE_PACKS;
  const active = (manifest.spec.compliance?.suppressions ?? []).filter(
    (s) => s.expires === undefined || s.expires >= today,
  );
  const suppressedIds = new Set(active.map((s) => s.rule));

  const inPacks = AUDIT_RULES.filter((r) => selected.includes(r.pack));
  const checked = inPacks.filter((r) => !suppressedIds.has(r.id));
  const failedRules = checked.filter((r) => !r.passes(manifest));
  const failed = new Set(failedRules.map((r) => r.id));

  const violations: AuditViolation[] = failedRules.map((r) => ({
    ruleId: r.id,
    severity: r.severity,
    title: r.title,
    message: r.message,
    remediation: r.remediation,
    pack: r.pack,
  }));
  const packs: PackResult[] = COMPLIANCE_PACKS.filter((p) => selected.includes(p)).map((pack) => {
    const rules = checked.filter((r) => r.pack === pack);
    return {
      pack,
      score: scoreOf(rules, failed),
      passed: rules.filter((r) => !failed.has(r.id)).length,
      failed: rules.filter((r) => failed.has(r.id)).length,
      suppressed: inPacks.filter((r) => r.pack === pack && suppressedIds.has(r.id)).length,
    };
  });
  const score = scoreOf(checked, failed);
  return {
    score,
    grade: gradeFor(score),
    violations,
    packs,
    suppressed: active
      .filter((s) => inPacks.some((r) => r.id === s.rule))
      .map((s) => ({
        ruleId: s.rule,
        reason: s.reason,
        ...(s.approvedBy ? { approvedBy: s.approvedBy } : {}),
        ...(s.expires ? { expires: s.expires } : {}),
      })),
    rulesChecked: checked.length,
    warnings: manifestWarnings(manifest.spec),
  };
}
