import { describe, expect, it } from 'vitest';
import type { AgentSummary } from '@agentspec/sdk';
import type { V1Pod } from '@kubernetes/client-node';
import { controlPlaneStatus, deploymentStatus, firstUninjectedPod } from './agent-status.js';

const summary = (over: Partial<AgentSummary> = {}): AgentSummary => ({
  agentId: 'a',
  namespace: 'ns',
  name: 'coach',
  runtime: 'k8s',
  phase: 'Healthy',
  score: 92,
  grade: 'A',
  lastSeen: '2026-11-23T10:00:00.123Z',
  instances: 2,
  instancesTotal: 2,
  source: 'agent-sdk',
  failingChecks: [],
  violations: [],
  ...over,
});

describe('deploymentStatus', () => {
  it('is Running and Ready when every desired pod is updated and ready', () => {
    const part = deploymentStatus({
      metadata: { generation: 3 },
      spec: { replicas: 2, selector: {}, template: {} },
      status: { observedGeneration: 3, replicas: 2, updatedReplicas: 2, readyReplicas: 2 },
    });
    expect(part.fields).toEqual({ phase: 'Running', replicas: 2, readyReplicas: 2 });
    expect(part.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'True', 'DeploymentReady'],
      ['Progressing', 'False', 'RolledOut'],
    ]);
  });

  it('is Progressing while the controller has not seen the new generation', () => {
    const part = deploymentStatus({
      metadata: { generation: 4 },
      spec: { replicas: 1, selector: {}, template: {} },
      status: { observedGeneration: 3, replicas: 1, updatedReplicas: 1, readyReplicas: 1 },
    });
    expect(part.fields.phase).toBe('Progressing');
    expect(part.conditions[1]).toMatchObject({ status: 'True', reason: 'RollingOut' });
  });

  it('is Pending when rolled out but pods are not ready, and handles a missing Deployment', () => {
    expect(
      deploymentStatus({
        metadata: { generation: 1 },
        spec: { replicas: 1, selector: {}, template: {} },
        status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 },
      }).fields.phase,
    ).toBe('Pending');
    expect(deploymentStatus(undefined).fields).toEqual({ phase: 'Progressing', replicas: 0, readyReplicas: 0 });
  });
});

describe('controlPlaneStatus', () => {
  it('reports Unknown conditions without a control plane, or while it is unreachable', () => {
    expect(controlPlaneStatus({ configured: false }, 'Running').conditions.map((c) => c.reason)).toEqual([
      'ControlPlaneNotConfigured',
      'ControlPlaneNotConfigured',
      'ControlPlaneNotConfigured',
    ]);
    const down = controlPlaneStatus(
      { configured: true, reachable: false, error: 'fetch failed', agent: undefined },
      'Running',
    );
    expect(down.conditions[0]).toMatchObject({ status: 'Unknown', reason: 'ControlPlaneUnreachable' });
    expect(down.conditions[0]?.message).toContain('fetch failed');
    expect(down.fields).toEqual({});
  });

  it('is Registered=False before any instance registered', () => {
    const part = controlPlaneStatus({ configured: true, reachable: true, agent: undefined }, 'Running');
    expect(part.fields).toEqual({ instances: 0 });
    expect(part.conditions[0]).toMatchObject({ type: 'Registered', status: 'False', reason: 'NotRegistered' });
  });

  it('says InjectionMissing, naming the pod, when a pod of the agent came without the registration', () => {
    const pod = (name: string, env: string[], deleting = false): V1Pod => ({
      metadata: { name, ...(deleting ? { deletionTimestamp: new Date() } : {}) },
      spec: { containers: [{ name: 'agent' }, { name: 'agentspec-sidecar', env: env.map((n) => ({ name: n })) }] },
    });
    expect(firstUninjectedPod([pod('a', ['AGENTSPEC_CONTROL_PLANE_URL']), pod('b', [])])).toBe('b');
    expect(firstUninjectedPod([pod('a', ['AGENTSPEC_CONTROL_PLANE_URL']), pod('gone', [], true)])).toBeUndefined();
    const part = controlPlaneStatus(
      { configured: true, reachable: true, agent: undefined, uninjectedPod: 'b' },
      'Running',
    );
    expect(part.conditions[0]).toMatchObject({ type: 'Registered', status: 'False', reason: 'InjectionMissing' });
    expect(part.conditions[0]?.message).toContain('pod b was created without AGENTSPEC_CONTROL_PLANE_URL');
    // Once an instance registered, the registration wins.
    const registered = controlPlaneStatus(
      { configured: true, reachable: true, agent: summary(), uninjectedPod: 'b' },
      'Running',
    );
    expect(registered.conditions[0]).toMatchObject({ status: 'True', reason: 'Registered' });
  });

  it('copies grade, score, source, last heartbeat and instances; A and B are compliant', () => {
    const part = controlPlaneStatus({ configured: true, reachable: true, agent: summary() }, 'Running');
    expect(part.fields).toEqual({
      instances: 2,
      instancesTotal: 2,
      score: 92,
      grade: 'A',
      source: 'agent-sdk',
      lastHeartbeat: '2026-11-23T10:00:00Z',
    });
    expect(part.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Registered', 'True', 'Registered'],
      ['Healthy', 'True', 'Healthy'],
      ['Compliant', 'True', 'GradeA'],
    ]);
    const c = controlPlaneStatus(
      { configured: true, reachable: true, agent: summary({ grade: 'C', score: 61 }) },
      'Running',
    );
    expect(c.conditions[2]).toMatchObject({ status: 'False', reason: 'GradeC' });
  });

  it('lets an unhealthy agent override a Running Deployment phase, never a failing one', () => {
    const unhealthy = summary({ phase: 'Unhealthy' });
    expect(controlPlaneStatus({ configured: true, reachable: true, agent: unhealthy }, 'Running').fields.phase).toBe(
      'Unhealthy',
    );
    expect(
      controlPlaneStatus({ configured: true, reachable: true, agent: unhealthy }, 'Progressing').fields.phase,
    ).toBeUndefined();
    expect(
      controlPlaneStatus({ configured: true, reachable: true, agent: unhealthy }, 'Running').conditions[1],
    ).toMatchObject({ status: 'False', reason: 'Unhealthy' });
  });

  it('names the failing checks and violations in the conditions, bounded and in the order given', () => {
    const checks = ['redis', 'postgres', 'model', 'mcp'].map((id) => ({
      id,
      status: 'fail',
      message: `${id} does not answer`,
      remediation: `start ${id}`,
    }));
    const agent = summary({
      phase: 'Unhealthy',
      grade: 'F',
      score: 25,
      failingChecks: checks,
      violations: [{ id: 'SEC-001', severity: 'critical', message: 'x'.repeat(2_000) }],
    });
    const part = controlPlaneStatus({ configured: true, reachable: true, agent }, 'Running');
    const healthy = part.conditions[1]!;
    expect(healthy.message).toBe(
      'at least one instance reports unhealthy: redis (fail): redis does not answer — fix: start redis; ' +
        'postgres (fail): postgres does not answer — fix: start postgres; model (fail): model does not answer — fix: start model; and 1 more',
    );
    const compliant = part.conditions[2]!;
    expect(
      compliant.message.startsWith(
        'score 25 (grade F); grade B (75) or better is compliant; violations: SEC-001 (critical): xxx',
      ),
    ).toBe(true);
    expect(compliant.message.length).toBe(1024);
    // The same report gives the same messages: an unchanged status writes nothing.
    expect(controlPlaneStatus({ configured: true, reachable: true, agent }, 'Running')).toEqual(part);
  });

  it('says Offline when no instance is live, keeping the last known grade', () => {
    const agent = summary({ phase: 'Offline', instances: 0, instancesTotal: 2, grade: 'F', score: 20 });
    const part = controlPlaneStatus({ configured: true, reachable: true, agent }, 'Running');
    expect(part.fields).toMatchObject({ phase: 'Offline', instances: 0, instancesTotal: 2, grade: 'F' });
    expect(part.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Registered', 'False', 'Offline'],
      ['Healthy', 'False', 'Offline'],
      ['Compliant', 'False', 'GradeF'],
    ]);
    expect(part.conditions[0]!.message).toBe(
      'no live instance: 2 registered, none heartbeating within 3 intervals; last heartbeat 2026-11-23T10:00:00Z',
    );
  });
});
