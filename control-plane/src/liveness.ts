import { sql, type RawBuilder } from 'kysely';

/** Seed 003's per-instance connection status. */
export const CONNECTION_STATUSES = ['online', 'healthy', 'degraded', 'offline', 'unknown'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/** Intervals without a heartbeat after which an instance is offline. */
export const MISSED_INTERVALS = 3;

/** The interval an instance's liveness is judged against: the one it asks for, never below the minimum. */
export function instanceInterval(config: { minHeartbeatIntervalSeconds: number }, requestedSeconds: number): number {
  return Math.max(requestedSeconds, config.minHeartbeatIntervalSeconds);
}

/**
 * An instance's connection status from the age of its last heartbeat, judged against its own interval (`i` is the
 * instances alias): registered and not reported yet, `online` within one interval and `unknown` after it; reported,
 * `healthy` or `degraded` (Degraded or Unhealthy) from its last report, `online` when that said nothing; `offline`
 * after 3 intervals without a heartbeat, reported or not. Computed when read, so it is right between reaper runs.
 */
export function connectionStatusSql(i: string): RawBuilder<ConnectionStatus> {
  const col = (name: string) => sql.ref(`${i}.${name}`);
  const intervals = (n: number) => sql`make_interval(secs => ${sql.lit(n)} * ${col('interval_seconds')})`;
  return sql<ConnectionStatus>`(case
    when ${col('last_heartbeat_at')} is null then (case
      when ${col('registered_at')} > now() - ${intervals(1)} then 'online'
      when ${col('registered_at')} > now() - ${intervals(MISSED_INTERVALS)} then 'unknown'
      else 'offline' end)
    when ${col('last_heartbeat_at')} <= now() - ${intervals(MISSED_INTERVALS)} then 'offline'
    when ${col('phase')} = 'Healthy' then 'healthy'
    when ${col('phase')} in ('Degraded', 'Unhealthy') then 'degraded'
    else 'online' end)`;
}

/** The instance counts as live (its figures make the agent's): anything but offline. */
export function liveSql(i: string): RawBuilder<boolean> {
  return sql<boolean>`(${connectionStatusSql(i)} <> 'offline')`;
}

export interface Problem {
  id: string;
  status?: string;
  severity?: string;
  message: string;
  remediation?: string;
}

/** The first failing checks and violations of a report: what a status message can name. */
export interface Problems {
  checks: Problem[];
  violations: Problem[];
  /** The gap report's `source` (kept here, small, so fleet queries never parse the stored gap document). */
  source?: string;
}

export const MAX_PROBLEMS = 5;
const MAX_TEXT = 200;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value.slice(0, MAX_TEXT) : undefined;

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];
const rank = (severity: string | undefined): number => {
  const n = SEVERITY_ORDER.indexOf(severity ?? '');
  return n === -1 ? SEVERITY_ORDER.length : n;
};

function problem(entry: Record<string, unknown>, idKeys: string[], status?: string): Problem | undefined {
  const id = idKeys.map((k) => text(entry[k])).find((v) => v !== undefined);
  if (!id) return undefined;
  const severity = text(entry['severity']);
  const remediation = text(entry['remediation']);
  return {
    id,
    ...(status ? { status } : {}),
    ...(severity ? { severity } : {}),
    message: text(entry['message']) ?? text(entry['title']) ?? text(entry['description']) ?? id,
    ...(remediation ? { remediation } : {}),
  };
}

const records = (value: unknown): Record<string, unknown>[] =>
  Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null) : [];

/**
 * The failing checks (fail before warn, then by severity) and the violations (by severity) of one heartbeat, at most
 * MAX_PROBLEMS of each, in a stable order so an unchanged report gives the same list; and the gap's source.
 */
export function problemsOf(health: Record<string, unknown>, gap: Record<string, unknown>): Problems {
  const statusRank = (s: string) => (s === 'fail' ? 0 : 1);
  const checks = records(health['checks'])
    .map((c) => ({ c, status: text(c['status']) ?? '' }))
    .filter(({ status }) => status === 'fail' || status === 'warn')
    .map(({ c, status }) => problem(c, ['id'], status))
    .filter((p): p is Problem => p !== undefined)
    .sort((a, b) => statusRank(a.status!) - statusRank(b.status!) || rank(a.severity) - rank(b.severity));
  const violations = records(gap['violations'] ?? gap['issues'])
    .map((v) => problem(v, ['ruleId', 'id', 'rule']))
    .filter((p): p is Problem => p !== undefined)
    .sort((a, b) => rank(a.severity) - rank(b.severity));
  const source = gap['source'];
  return {
    checks: checks.slice(0, MAX_PROBLEMS),
    violations: violations.slice(0, MAX_PROBLEMS),
    ...(source === undefined || source === null
      ? {}
      : { source: typeof source === 'string' ? source : JSON.stringify(source) }),
  };
}
