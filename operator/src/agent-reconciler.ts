import {
  AppsV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
  type V1Deployment,
} from '@kubernetes/client-node';
import {
  agentResourceSpecSchema,
  buildWorkload,
  formatIssue,
  toManifestIssues,
  WorkloadError,
  type AgentCondition,
  type AgentStatus,
} from '@agentspec/sdk';
import { Reasons, setCondition, type ConditionInput } from './conditions.js';
import type { ReconcileResult } from './controller-runner.js';

export const FIELD_MANAGER = 'agentspec-operator';
const GROUP = 'agentspec.io';
const VERSION = 'v1';
const PLURAL = 'agents';

interface AgentObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    deletionTimestamp?: string;
    resourceVersion?: string;
  };
  spec: unknown;
  status?: AgentStatus;
}

export interface AgentReconcilerOptions {
  kubeConfig: KubeConfig;
  /** agentspec-sidecar image for Agents that do not name one. */
  sidecarImage: string;
  now?: () => Date;
}

const isNotFound = (err: unknown): boolean => (err as { code?: number }).code === 404;

/**
 * Level-based reconcile of one Agent: reads it, server-side-applies its ConfigMap, Deployment and Service
 * (owned by the Agent, so hand edits to fields we own are reverted and deletion garbage-collects them), and
 * writes status only when it changed.
 */
export class AgentReconciler {
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;
  private readonly apps: AppsV1Api;
  private readonly now: () => Date;

  constructor(private readonly options: AgentReconcilerOptions) {
    this.objects = KubernetesObjectApi.makeApiClient(options.kubeConfig);
    this.custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
    this.apps = options.kubeConfig.makeApiClient(AppsV1Api);
    this.now = options.now ?? (() => new Date());
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    if (!namespace || !name) throw new Error(`bad key "${key}": expected namespace/name`);
    let agent: AgentObject;
    try {
      agent = (await this.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name,
      })) as AgentObject;
    } catch (err) {
      if (isNotFound(err)) return undefined; // deleted: garbage collection removes what it owned
      throw err;
    }
    if (agent.metadata.deletionTimestamp) return undefined;
    const generation = agent.metadata.generation ?? 0;
    const condition = (input: Omit<ConditionInput, 'observedGeneration'>): ConditionInput => ({
      ...input,
      observedGeneration: generation,
    });

    const parsed = agentResourceSpecSchema.safeParse(agent.spec);
    if (!parsed.success) {
      const message = toManifestIssues(parsed.error, ['spec']).map(formatIssue).join('; ');
      await this.writeStatus(agent, { phase: 'Failed' }, [
        condition({ type: 'Ready', status: 'False', reason: Reasons.InvalidSpec, message }),
        condition({ type: 'Progressing', status: 'False', reason: Reasons.InvalidSpec, message }),
      ]);
      return undefined;
    }
    let workload;
    try {
      workload = buildWorkload({
        name,
        namespace,
        spec: parsed.data,
        sidecarImage: this.options.sidecarImage,
        managedBy: FIELD_MANAGER,
        owner: { apiVersion: agent.apiVersion, kind: agent.kind, name, uid: agent.metadata.uid },
      });
    } catch (err) {
      if (!(err instanceof WorkloadError)) throw err;
      await this.writeStatus(agent, { phase: 'Failed' }, [
        condition({ type: 'Ready', status: 'False', reason: err.reason, message: err.message }),
        condition({ type: 'Progressing', status: 'False', reason: err.reason, message: err.message }),
      ]);
      return undefined;
    }
    for (const object of workload) {
      await this.objects.patch(
        object as KubernetesObject,
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );
    }
    const deployment = await this.apps.readNamespacedDeployment({ name, namespace });
    const { fields, conditions } = this.deploymentStatus(deployment);
    await this.writeStatus(agent, fields, conditions.map(condition));
    return undefined;
  }

  private deploymentStatus(deployment: V1Deployment): {
    fields: Partial<AgentStatus>;
    conditions: Omit<ConditionInput, 'observedGeneration'>[];
  } {
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

  /** Replaces the status subresource unless nothing would change (no write, no event storm). */
  private async writeStatus(
    agent: AgentObject,
    fields: Partial<AgentStatus>,
    updates: ConditionInput[],
  ): Promise<void> {
    const previous = agent.status ?? {};
    let conditions: AgentCondition[] = previous.conditions ?? [];
    for (const update of updates) conditions = setCondition(conditions, update, this.now());
    const next: AgentStatus = {
      ...previous,
      ...fields,
      observedGeneration: agent.metadata.generation ?? 0,
      conditions,
    };
    if (JSON.stringify(next) === JSON.stringify(previous)) return;
    await this.custom.replaceNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: agent.metadata.namespace,
      plural: PLURAL,
      name: agent.metadata.name,
      body: { ...agent, status: next },
      fieldManager: FIELD_MANAGER,
    });
  }
}
