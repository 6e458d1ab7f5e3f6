import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { ENV, type AgentProblem, type AgentStatus, type AgentSummary } from '@agentspec/sdk';
import { GRADE_REASONS, Reasons, type ConditionInput } from './conditions.js';

export type ConditionUpdate = Omit<ConditionInput, 'observedGeneration'>;

export interface StatusPart {
  fields: Partial<AgentStatus>;
  conditions: ConditionUpdate[];
}

/** phase, replicas, readyReplicas, Ready and Progressing from the Agent's Deployment. */
export function deploymentStatus(deployment: V1Deployment | undefined): StatusPart {
  if (!deployment) {
    const message = 'the Deployment has not been created yet';
    return {
      fields: { phase: 'Progressing', replicas: 0, readyReplicas: 0 },
      conditions: [
        { type: 'Ready', status: 'False', reason: Reasons.PodsNotReady, message },
        { type: 'Progressing', status: 'True', reason: Reasons.RollingOut, message },
      ],
    };
  }
  const desired = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  const ready = status.readyReplicas ?? 0;
  const updated = status.updatedReplicas ?? 0;
  const current = (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const rolledOut = current && updated >= desired && (status.replicas ?? 0) <= desired;
  const isReady = rolledOut && ready >= desired;
  const counts = `${ready}/${desired} pods ready`;
  return {
    fields: {
      phase: isReady ? 'Running' : rolledOut ? 'Pending' : 'Progressing',
      replicas: status.replicas ?? 0,
      readyReplicas: ready,
    },
    conditions: [
      isReady
        ? { type: 'Ready', status: 'True', reason: Reasons.DeploymentReady, message: counts }
        : { type: 'Ready', status: 'False', reason: Reasons.PodsNotReady, message: counts },
      rolledOut
        ? { type: 'Progressing', status: 'False', reason: Reasons.RolledOut, message: 'the Deployment is up to date' }
        : {
            type: 'Progressing',
            status: 'True',
            reason: Reasons.RollingOut,
            message: `${updated}/${desired} pods updated`,
          },
    ],
  };
}

export type ControlPlaneView =
  | { configured: false }
  | {
      configured: true;
      reachable: boolean | undefined;
      error?: string;
      agent: AgentSummary | undefined;
      /** A pod of the agent created without the registration variables (the webhook did not mutate it). */
      uninjectedPod?: string;
    };

/** The variable whose absence shows that the webhook did not mutate a pod. */
export const INJECTION_MARKER = ENV.controlPlaneUrl;

/** The first live pod (not terminating) none of whose containers got the registration variables. */
export function firstUninjectedPod(pods: readonly V1Pod[]): string | undefined {
  return pods
    .filter((pod) => !pod.metadata?.deletionTimestamp)
    .find((pod) => !(pod.spec?.containers ?? []).some((c) => (c.env ?? []).some((e) => e.name === INJECTION_MARKER)))
    ?.metadata?.name;
}

/** The grade an agent needs for Compliant=True. */
export const COMPLIANT_GRADES = ['A', 'B'] as const;

/** Registered=False with Healthy and Compliant Unknown, for the same reason. */
function notRegistered(reason: string, message: string): StatusPart {
  return {
    fields: { instances: 0 },
    conditions: [
      { type: 'Registered', status: 'False', reason, message },
      { type: 'Healthy', status: 'Unknown', reason, message },
      { type: 'Compliant', status: 'Unknown', reason, message },
    ],
  };
}

/** An ISO time to whole seconds, as Kubernetes writes times (the status stays stable within a second). */
const wholeSeconds = (iso: string): string => iso.replace(/\.\d{3}Z$/, 'Z');

/** Most problems named in a condition message, and the longest message. */
export const MESSAGE_PROBLEMS = 3;
export const MAX_MESSAGE_LENGTH = 1024;

const bounded = (message: string): string =>
  message.length <= MAX_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;

/** `id (status|severity): message — fix: remediation; …` for the first few problems, in the control plane's order. */
function problemList(problems: readonly AgentProblem[], tag: (p: AgentProblem) => string | undefined): string {
  const shown = problems.slice(0, MESSAGE_PROBLEMS).map((p) => {
    const label = tag(p);
    return `${p.id}${label ? ` (${label})` : ''}: ${p.message}${p.remediation ? ` — fix: ${p.remediation}` : ''}`;
  });
  const more = problems.length > MESSAGE_PROBLEMS ? `; and ${problems.length - MESSAGE_PROBLEMS} more` : '';
  return shown.join('; ') + more;
}

function offlineConditions(agent: AgentSummary): ConditionUpdate[] {
  const seen = agent.lastSeen ? `; last heartbeat ${wholeSeconds(agent.lastSeen)}` : '';
  const message = `no live instance: ${agent.instancesTotal} registered, none heartbeating within 3 intervals${seen}`;
  return [
    { type: 'Registered', status: 'False', reason: Reasons.Offline, message },
    { type: 'Healthy', status: 'False', reason: Reasons.Offline, message },
  ];
}

function healthyCondition(agent: AgentSummary): ConditionUpdate {
  if (agent.phase === 'Healthy') {
    return { type: 'Healthy', status: 'True', reason: Reasons.Healthy, message: 'every instance reports healthy' };
  }
  if (agent.phase === 'Unknown') {
    return { type: 'Healthy', status: 'Unknown', reason: Reasons.NoHeartbeat, message: 'no heartbeat yet' };
  }
  const reason = agent.phase === 'Degraded' ? Reasons.Degraded : Reasons.Unhealthy;
  const checks = agent.failingChecks ?? [];
  const detail = checks.length ? `: ${problemList(checks, (p) => p.status)}` : '';
  return {
    type: 'Healthy',
    status: 'False',
    reason,
    message: bounded(`at least one instance reports ${agent.phase.toLowerCase()}${detail}`),
  };
}

function compliantCondition(agent: AgentSummary): ConditionUpdate {
  if (agent.grade === null) {
    return {
      type: 'Compliant',
      status: 'Unknown',
      reason: Reasons.NoScore,
      message: 'no compliance score reported yet',
    };
  }
  const reason = GRADE_REASONS[agent.grade as keyof typeof GRADE_REASONS] ?? Reasons.GradeF;
  const figures = `score ${agent.score ?? ''} (grade ${agent.grade})`;
  if ((COMPLIANT_GRADES as readonly string[]).includes(agent.grade)) {
    return { type: 'Compliant', status: 'True', reason, message: figures };
  }
  const violations = agent.violations ?? [];
  const detail = violations.length ? `; violations: ${problemList(violations, (p) => p.severity)}` : '';
  return {
    type: 'Compliant',
    status: 'False',
    reason,
    message: bounded(`${figures}; grade B (75) or better is compliant${detail}`),
  };
}

/** What the control plane's figures of a registered agent put in the status. */
function reportedFields(agent: AgentSummary, deploymentPhase: string | undefined): Partial<AgentStatus> {
  const fields: Partial<AgentStatus> = {
    instances: agent.instances,
    instancesTotal: agent.instancesTotal ?? agent.instances,
  };
  if (agent.score !== null) fields.score = agent.score;
  if (agent.grade !== null) fields.grade = agent.grade;
  if (agent.source !== null) fields.source = agent.source;
  if (agent.lastSeen !== null) fields.lastHeartbeat = wholeSeconds(agent.lastSeen);
  if (deploymentPhase === 'Running' && ['Degraded', 'Unhealthy', 'Offline'].includes(agent.phase)) {
    fields.phase = agent.phase;
  }
  return fields;
}

/**
 * Registered, Healthy and Compliant plus grade, score, source, lastHeartbeat and instances from what the control
 * plane reports. A Running Deployment whose agent is Degraded, Unhealthy or Offline takes that phase.
 */
export function controlPlaneStatus(view: ControlPlaneView, deploymentPhase: string | undefined): StatusPart {
  const unknown = (reason: string, message: string): StatusPart => ({
    fields: {},
    conditions: (['Registered', 'Healthy', 'Compliant'] as const).map((type) => ({
      type,
      status: 'Unknown',
      reason,
      message,
    })),
  });
  if (!view.configured) return unknown(Reasons.ControlPlaneNotConfigured, 'the operator runs without a control plane');
  if (view.reachable !== true) {
    const message =
      view.reachable === undefined ? 'waiting for the control plane' : `control plane unreachable: ${view.error ?? ''}`;
    return unknown(Reasons.ControlPlaneUnreachable, message);
  }
  const agent = view.agent;
  if (agent && agent.instances === 0 && (agent.instancesTotal ?? 0) > 0) {
    return {
      fields: reportedFields(agent, deploymentPhase),
      conditions: [...offlineConditions(agent), compliantCondition(agent)],
    };
  }
  if (!agent || agent.instances === 0) {
    if (!view.uninjectedPod)
      return notRegistered(Reasons.NotRegistered, 'no instance has registered with the control plane yet');
    return notRegistered(
      Reasons.InjectionMissing,
      `pod ${view.uninjectedPod} was created without ${INJECTION_MARKER}: the agentspec webhook did not mutate it ` +
        '(it admits pods unchanged when it is down or unreachable); check the webhook, then delete the pod to retry',
    );
  }
  const plural = agent.instances === 1 ? 'instance' : 'instances';
  const registered: ConditionUpdate = {
    type: 'Registered',
    status: 'True',
    reason: Reasons.Registered,
    message:
      `${agent.instances} live ${plural}` +
      (agent.instancesTotal > agent.instances ? ` (${agent.instancesTotal - agent.instances} offline)` : ''),
  };
  return {
    fields: reportedFields(agent, deploymentPhase),
    conditions: [registered, healthyCondition(agent), compliantCondition(agent)],
  };
}
