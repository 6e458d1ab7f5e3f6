import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { ENV, type AgentStatus, type AgentSummary } from '@agentspec/sdk';
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

function healthyCondition(agent: AgentSummary): ConditionUpdate {
  if (agent.phase === 'Healthy') {
    return { type: 'Healthy', status: 'True', reason: Reasons.Healthy, message: 'every instance reports healthy' };
  }
  if (agent.phase === 'Unknown') {
    return { type: 'Healthy', status: 'Unknown', reason: Reasons.NoHeartbeat, message: 'no heartbeat yet' };
  }
  const reason = agent.phase === 'Degraded' ? Reasons.Degraded : Reasons.Unhealthy;
  return {
    type: 'Healthy',
    status: 'False',
    reason,
    message: `at least one instance reports ${agent.phase.toLowerCase()}`,
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
  return (COMPLIANT_GRADES as readonly string[]).includes(agent.grade)
    ? { type: 'Compliant', status: 'True', reason, message: figures }
    : { type: 'Compliant', status: 'False', reason, message: `${figures}; grade B (75) or better is compliant` };
}

/** What the control plane's figures of a registered agent put in the status. */
function reportedFields(agent: AgentSummary, deploymentPhase: string | undefined): Partial<AgentStatus> {
  const fields: Partial<AgentStatus> = { instances: agent.instances };
  if (agent.score !== null) fields.score = agent.score;
  if (agent.grade !== null) fields.grade = agent.grade;
  if (agent.source !== null) fields.source = agent.source;
  if (agent.lastSeen !== null) fields.lastHeartbeat = agent.lastSeen.replace(/\.\d{3}Z$/, 'Z');
  if (deploymentPhase === 'Running' && (agent.phase === 'Degraded' || agent.phase === 'Unhealthy')) {
    fields.phase = agent.phase;
  }
  return fields;
}

/**
 * Registered, Healthy and Compliant plus grade, score, source, lastHeartbeat and instances from what the control
 * plane reports. A Running Deployment whose agent reports Degraded or Unhealthy takes that phase.
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
    message: `${agent.instances} ${plural} registered`,
  };
  return {
    fields: reportedFields(agent, deploymentPhase),
    conditions: [registered, healthyCondition(agent), compliantCondition(agent)],
  };
}
