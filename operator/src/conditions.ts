import type { AgentCondition } from '@agentspec/sdk';

/** CamelCase condition reasons, as named constants. */
export const Reasons = {
  DeploymentReady: 'DeploymentReady',
  PodsNotReady: 'PodsNotReady',
  RollingOut: 'RollingOut',
  RolledOut: 'RolledOut',
  MissingImage: 'MissingImage',
  InvalidSpec: 'InvalidSpec',
  ControlPlaneNotConfigured: 'ControlPlaneNotConfigured',
  ControlPlaneUnreachable: 'ControlPlaneUnreachable',
  NotRegistered: 'NotRegistered',
  InjectionMissing: 'InjectionMissing',
  Registered: 'Registered',
  Healthy: 'Healthy',
  NoHeartbeat: 'NoHeartbeat',
  NoScore: 'NoScore',
  Degraded: 'Degraded',
  Unhealthy: 'Unhealthy',
  Offline: 'Offline',
  GradeA: 'GradeA',
  GradeB: 'GradeB',
  GradeC: 'GradeC',
  GradeD: 'GradeD',
  GradeF: 'GradeF',
} as const;

/** The Compliant condition's reason for each grade. */
export const GRADE_REASONS = {
  A: Reasons.GradeA,
  B: Reasons.GradeB,
  C: Reasons.GradeC,
  D: Reasons.GradeD,
  F: Reasons.GradeF,
} as const;

export type ConditionInput = Omit<AgentCondition, 'lastTransitionTime'>;

/**
 * Sets a condition, keeping lastTransitionTime unless the status flips; the other conditions are kept in order.
 */
export function setCondition(conditions: readonly AgentCondition[], next: ConditionInput, now: Date): AgentCondition[] {
  const existing = conditions.find((c) => c.type === next.type);
  const lastTransitionTime =
    existing && existing.status === next.status
      ? existing.lastTransitionTime
      : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const condition: AgentCondition = { ...next, lastTransitionTime };
  return existing ? conditions.map((c) => (c.type === next.type ? condition : c)) : [...conditions, condition];
}
