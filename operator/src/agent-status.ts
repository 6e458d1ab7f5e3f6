import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { ENV, type AgentStatus, type AgentSummary } from '@agentspec/sdk';
import { Reasons, type ConditionInput } from './conditions.js';

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

/**
 * Registered, Healthy and Compliant plus grade, score, source, lastHeartbeat and instances from what the control
 * plane reports. A Running Deployment whose agent reports Degraded or Unhealthy takes that phase.
 */
export function controlPlaneStatus(view: ControlPlaneView, deploymentPhase: string | undefined): StatusPart {
  const unknown = (reason: string, message: string): ConditionUpdate[] =>
    (['Registered', 'Healthy', 'Compliant'] as const).map((type) => ({ type, status: 'Unknown', reason, message }));
  if (!view.configured) {
    return {
      fields: {},
      conditions: unknown(Reasons.ControlPlaneNotConfigured, 'the operator runs without a control plane'),
    };
  }
  if (view.reachable !== true) {
    return {
      fields: {},
      conditions: unknown(
        Reasons.ControlPlaneUnreachable,
        view.reachable === undefined
          ? 'waiting for the control plane'
          : `control plane unreachable: ${view.error ?? ''}`,
      ),
    };
  }
  const agent = view.agent;
  if ((!agent || agent.instances === 0) && view.uninjectedPod) {
    const message =
      `pod ${view.uninjectedPod} was created without ${INJECTION_MARKER}: the agentspec webhook did not mutate it ` +
      '(it admits pods unchanged when it is down or unreachable); check the webhook, then delete the pod to retry';
    return {
      fields: { instances: 0 },
      conditions: [
        { type: 'Registered', status: 'False', reason: Reasons.InjectionMissing, message },
        { type: 'Healthy', status: 'Unknown', reason: Reasons.InjectionMissing, message },
        { type: 'Compliant', status: 'Unknown', reason: Reasons.InjectionMissing, message },
      ],
    };
  }
  if (!agent || agent.instances === 0) {
    const message = 'no instance has registered with the control plane yet';
    return {
      fields: { instances: 0 },
      conditions: [
        { type: 'Registered', status: 'False', reason: Reasons.NotRegistered, message },
        { type: 'Healthy', status: 'Unknown', reason: Reasons.NotRegistered, message },
        { type: 'Compliant', status: 'Unknown', reason: Reasons.NotRegistered, message },
      ],
    };
  }
  const fields: Partial<AgentStatus> = { instances: agent.instances };
  if (agent.score !== null) fields.score = agent.score;
  if (agent.grade !== null) fields.grade = agent.grade;
  if (agent.source !== null) fields.source = agent.source;
  if (agent.lastSeen !== null) fields.lastHeartbeat = agent.lastSeen.replace(/\.\d{3}Z$/, 'Z');
  if (deploymentPhase === 'Running' && (agent.phase === 'Degraded' || agent.phase === 'Unhealthy')) {
    fields.phase = agent.phase;
  }
  const plural = agent.instances === 1 ? 'instance' : 'instances';
  const healthy: ConditionUpdate =
    agent.phase === 'Healthy'
      ? { type: 'Healthy', status: 'True', reason: Reasons.Healthy, message: 'every instance reports healthy' }
      : agent.phase === 'Unknown'
        ? { type: 'Healthy', status: 'Unknown', reason: Reasons.NoHeartbeat, message: 'no heartbeat yet' }
        : {
            type: 'Healthy',
            status: 'False',
            reason: agent.phase,
            message: `at least one instance reports ${agent.phase.toLowerCase()}`,
          };
  const compliant: ConditionUpdate =
    agent.grade === null
      ? { type: 'Compliant', status: 'Unknown', reason: Reasons.NoScore, message: 'no compliance score reported yet' }
      : (COMPLIANT_GRADES as readonly string[]).includes(agent.grade)
        ? {
            type: 'Compliant',
            status: 'True',
            reason: `Grade${agent.grade}`,
            message: `score ${agent.score ?? ''} (grade ${agent.grade})`,
          }
        : {
            type: 'Compliant',
            status: 'False',
            reason: `Grade${agent.grade}`,
            message: `score ${agent.score ?? ''} (grade ${agent.grade}); grade B (75) or better is compliant`,
          };
  return {
    fields,
    conditions: [
      {
        type: 'Registered',
        status: 'True',
        reason: Reasons.Registered,
        message: `${agent.instances} ${plural} registered`,
      },
      healthy,
      compliant,
    ],
  };
}
