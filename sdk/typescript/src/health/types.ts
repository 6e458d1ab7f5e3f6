export type CheckStatus = 'pass' | 'fail' | 'skip';
export type CheckSeverity = 'error' | 'warning' | 'info';
export type CheckCategory = 'env' | 'model' | 'service' | 'memory' | 'mcp' | 'tool';

/** One check of a HealthReport (seed 002). */
export interface HealthCheck {
  id: string;
  category: CheckCategory;
  status: CheckStatus;
  severity: CheckSeverity;
  latencyMs?: number;
  message?: string;
  remediation?: string;
}

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** What `GET /agentspec/health` serves (seed 002). */
export interface HealthReport {
  agentName: string;
  timestamp: string;
  status: HealthStatus;
  summary: { passed: number; failed: number; warnings: number; skipped: number };
  checks: HealthCheck[];
}

/**
 * A failing check of severity error counts as failed and makes the report unhealthy; a failing warning or
 * info check counts as a warning and makes it degraded.
 */
export function summarize(agentName: string, checks: HealthCheck[], now: Date = new Date()): HealthReport {
  const summary = { passed: 0, failed: 0, warnings: 0, skipped: 0 };
  for (const check of checks) {
    if (check.status === 'pass') summary.passed++;
    else if (check.status === 'skip') summary.skipped++;
    else if (check.severity === 'error') summary.failed++;
    else summary.warnings++;
  }
  const status: HealthStatus = summary.failed > 0 ? 'unhealthy' : summary.warnings > 0 ? 'degraded' : 'healthy';
  return { agentName, timestamp: now.toISOString(), status, summary, checks };
}
