import { gradeFor, type AgentManifest, type Grade, type HealthCheck, type HealthReport } from '@agentspec/sdk';
import type { AuditRing } from './audit-ring.js';

export type Source = 'agent-sdk' | 'manifest-static';
export type IssueSeverity = 'critical' | 'high' | 'medium' | 'low';

export interface GapIssue {
  severity: IssueSeverity;
  property: string;
  description: string;
  recommendation: string;
}

/** What GET /agentspec/gap says beside the static score: the model's reading, or why there is none. */
export type GapAnalysis =
  | {
      source: 'llm';
      model: string;
      generatedAt: string;
      summary: string;
      recommendations: { severity: string; property: string; recommendation: string }[];
    }
  | { source: 'static'; reason: string };

export interface GapReport {
  score: number;
  grade: Grade;
  source: Source;
  issues: GapIssue[];
  timestamp: string;
  /** Seed 001's LLM gap analysis (ANTHROPIC_API_KEY), or why the report is static only. The score is the static one. */
  analysis?: GapAnalysis;
}

/** Points an issue costs, by severity; healthcheckable (−20) and discoverable (−10) are fixed by seed 002. */
export const SEVERITY_DEDUCTION: Record<IssueSeverity, number> = { critical: 25, high: 15, medium: 10, low: 5 };
const FIXED_DEDUCTION: Record<string, number> = { healthcheckable: 20, discoverable: 10 };

export interface GapInput {
  manifest: AgentManifest;
  /** The agent's live HealthReport (agent-sdk mode), or undefined (manifest-static). */
  live: HealthReport | undefined;
  /** Whether the agent answers GET /health and GET /capabilities on its upstream port. */
  upstream: { health: boolean; capabilities: boolean };
  /** OPA violations of the requests in the audit ring: how many requests each was found in, of how many. */
  policy?: PolicyViolations;
  now?: Date;
}

export interface PolicyViolations {
  requests: number;
  counts: Map<string, number>;
}

/** The OPA violations the audit ring holds (each request's, blocked or not). */
export function policyViolations(ring: Pick<AuditRing, 'latest' | 'capacity'>): PolicyViolations {
  const entries = ring.latest(ring.capacity);
  const counts = new Map<string, number>();
  for (const entry of entries) for (const v of entry.opaViolations ?? []) counts.set(v, (counts.get(v) ?? 0) + 1);
  return { requests: entries.length, counts };
}

/**
 * The severity of an OPA violation, by its name as upstream AgentSpec's generated policies name them: spend and
 * unconfirmed destructive actions critical; PII, prompt injection and memory TTL high; toxicity and hallucination
 * medium; anything else low.
 */
export function policySeverity(id: string): IssueSeverity {
  if (/cost|spend|destructive/.test(id)) return 'critical';
  if (/pii|injection|ttl/.test(id)) return 'high';
  if (/toxicity|hallucination/.test(id)) return 'medium';
  return 'low';
}

function policyIssues(policy: PolicyViolations): GapIssue[] {
  return [...policy.counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, count]) => ({
      severity: policySeverity(id),
      property: `opa:${id}`,
      description: `OPA policy violation ${id} in ${count} of the last ${policy.requests} requests`,
      recommendation: `See GET /agentspec/audit for the requests; change the agent so that policy rule ${id} no longer fires (or the policy, if it is wrong).`,
    }));
}

const deduction = (issue: GapIssue): number => FIXED_DEDUCTION[issue.property] ?? SEVERITY_DEDUCTION[issue.severity];

/** Gap issues from a failed live check, cross-referenced against the spec (seed 002's severity mapping). */
function liveIssue(check: HealthCheck): GapIssue | undefined {
  if (check.status === 'pass') return undefined;
  const name = check.id.slice(check.id.indexOf(':') + 1);
  const detail = check.message ? `: ${check.message}` : '';
  switch (check.category) {
    case 'model':
      return check.status === 'fail'
        ? {
            severity: 'critical',
            property: 'model.apiKey',
            description: `Model endpoint ${name} unreachable with the configured key${detail}`,
            recommendation: check.remediation ?? 'Check the API key and the network path to the provider.',
          }
        : {
            severity: 'high',
            property: 'model.apiKey',
            description: `Cannot check model endpoint: API key reference not resolved${detail}`,
            recommendation:
              check.remediation ?? 'Ensure the model API key environment variable is set in the agent container.',
          };
    case 'env':
      if (check.status === 'skip') return undefined;
      return {
        severity: 'high',
        property: `env.${name}`,
        description: `Environment variable ${name} is not set in the agent process${detail}`,
        recommendation: check.remediation ?? `Set ${name} in the agent container's environment.`,
      };
    case 'tool':
      return {
        severity: 'medium',
        property: `tools.${name}`,
        description: `Tool ${name} is declared but its handler is not registered${detail}`,
        recommendation: check.remediation ?? `Register a handler for ${name} in the agent.`,
      };
    default:
      if (check.status === 'skip') return undefined;
      return {
        severity: check.severity === 'error' ? 'high' : 'low',
        property: `${check.category}.${name}`,
        description: `${check.category} ${name} failed its live check${detail}`,
        recommendation: check.remediation ?? `Check that ${name} is reachable from the agent.`,
      };
  }
}

/**
 * The gap report of seed 002. Static issues always: healthcheckable (−20) unless the agent answers GET /health or
 * reports live, discoverable (−10) likewise for GET /capabilities, auditable (no guardrails), evaluated (no
 * evaluation). With a live report, every failing check and every declared tool the report does not cover. And each OPA
 * violation the audit ring's requests were found with, by the severity its name carries.
 */
export function gapReport(input: GapInput): GapReport {
  const { manifest, live } = input;
  const spec = manifest.spec;
  const issues: GapIssue[] = [];
  if (!live && !input.upstream.health) {
    issues.push({
      severity: 'high',
      property: 'healthcheckable',
      description: 'The agent answers no GET /health and reports no live health (GET /agentspec/health)',
      recommendation: 'Mount AgentSpecReporter in the agent (GET /agentspec/health), or serve GET /health.',
    });
  }
  if (!live && !input.upstream.capabilities) {
    issues.push({
      severity: 'medium',
      property: 'discoverable',
      description: 'The agent answers no GET /capabilities',
      recommendation: 'Mount AgentSpecReporter in the agent, or serve GET /capabilities.',
    });
  }
  const guardrails = spec.guardrails as { input?: unknown[]; output?: unknown[] } | undefined;
  if (!guardrails || ((guardrails.input?.length ?? 0) === 0 && (guardrails.output?.length ?? 0) === 0)) {
    issues.push({
      severity: 'medium',
      property: 'auditable',
      description: 'No guardrails declared in spec',
      recommendation: 'Add spec.guardrails with input/output rules (e.g. pii-detector, prompt-injection).',
    });
  }
  if (!spec.evaluation) {
    issues.push({
      severity: 'medium',
      property: 'evaluated',
      description: 'No evaluation declared in spec',
      recommendation: 'Add spec.evaluation with a dataset and metrics so changes are measured before release.',
    });
  }
  if (live) {
    for (const check of live.checks) {
      const issue = liveIssue(check);
      if (issue) issues.push(issue);
    }
    const reported = new Set(live.checks.map((c) => c.id));
    for (const tool of spec.tools ?? []) {
      if (!reported.has(`tool:${tool.name}`)) {
        issues.push({
          severity: 'medium',
          property: `tools.${tool.name}`,
          description: `Tool ${tool.name} is declared in the spec but the agent does not report it`,
          recommendation: 'Register the tool with AgentSpecReporter so its handler is checked.',
        });
      }
    }
  }
  if (input.policy) issues.push(...policyIssues(input.policy));
  const score = Math.max(0, 100 - issues.reduce((sum, issue) => sum + deduction(issue), 0));
  return {
    score,
    grade: gradeFor(score),
    source: live ? 'agent-sdk' : 'manifest-static',
    issues,
    timestamp: (input.now ?? new Date()).toISOString(),
  };
}
