import type { COMPLIANCE_PACKS } from '../manifest/schema.js';
import type { Grade } from './grade.js';
import type { ManifestWarning } from '../manifest/warnings.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low';

export type CompliancePack = (typeof COMPLIANCE_PACKS)[number];

export interface AuditViolation {
  ruleId: string;
  severity: Severity;
  title: string;
  message: string;
  remediation: string;
  pack: CompliancePack;
}

export interface PackResult {
  pack: CompliancePack;
  score: number;
  passed: number;
  failed: number;
  suppressed: number;
}

/** The `gap` of every heartbeat: the control plane reads `gap.score`. */
export interface AuditResult {
  score: number;
  grade: Grade;
  violations: AuditViolation[];
  packs: PackResult[];
  /** Rules switched off by a suppression that has not expired. */
  suppressed: { ruleId: string; reason: string; approvedBy?: string; expires?: string }[];
  /** Rules evaluated (not suppressed). */
  rulesChecked: number;
  /** What the manifest says that will not work as it seems (not scored: the score stays upstream's). */
  warnings: ManifestWarning[];
}
