import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  AppsV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  loadYaml,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Deployment,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { registered } from './metric.js';
import { AGENT_RESOURCE, patchAgentFinalizers } from './agent-api.js';
import {
  agentResourceSpecSchema,
  ANNOTATION_ROLLBACK_TO,
  buildWorkload,
  FINALIZER_DEREGISTER,
  formatIssue,
  LABEL_AGENT_NAME,
  manifestWarnings,
  toManifestIssues,
  WorkloadError,
  type AgentCondition,
  type AgentResourceSpec,
  type AgentStatus,
  type ControlPlaneClient,
  type K8sObject,
  manifestConfigMapName,
} from '@agentspec/sdk';
import {
  controlPlaneStatus,
  deploymentStatus,
  firstUninjectedPod,
  type ConditionUpdate,
  type ControlPlaneView,
} from './agent-status.js';
import { Reasons, setCondition, type ConditionInput } from './conditions.js';
import type { ReconcileResult } from './controller-runner.js';
import type { ControlPlaneStatus } from './control-plane-status.js';
import type { EventRecorder } from './events.js';
import type { Cache } from './informer.js';
import { isApplied, DESIRED_HASH_ANNOTATION } from './needs-apply.js';
import { AgentRevisions, type RevisionCache } from './revisions.js';

export const FIELD_MANAGER = 'agentspec-operator';
export const MANAGED_BY_SELECTOR = `app.kubernetes.io/managed-by=${FIELD_MANAGER}`;
/** What the server-side apply of the workload's Deployment answered (the generic objects API returns any kind). */
const isDeployment = (object: KubernetesObject | undefined): object is V1Deployment =>
  object?.kind === 'Deployment' && object.apiVersion === 'apps/v1';

export interface AgentObject extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    deletionTimestamp?: Date;
    resourceVersion?: string;
    finalizers?: string[];
    annotations?: Record<string, string>;
  };
  spec: unknown;
  status?: AgentStatus;
}

export interface AgentCaches {
  agents: Cache<AgentObject>;
  deployments: Cache<V1Deployment>;
  configMaps: Cache<V1ConfigMap>;
  services: Cache<V1Service>;
  /** The Agents' NetworkPolicies, when the operator makes them. */
  networkPolicies?: Cache<KubernetesObject>;
  /** Pods labelled agentspec.io/inject, to tell when the webhook did not inject an Agent's pods. */
  injectedPods?: Cache<V1Pod>;
  /** The Agents' ControllerRevisions without their data, indexed by Agent. */
  revisions: RevisionCache;
}

export interface AgentReconcilerOptions {
  /** Where agentspec_operator_writes_total is registered. */
  registry?: Registry;
  kubeConfig: KubeConfig;
  caches: AgentCaches;
  /** agentspec-sidecar image for Agents that do not name one. */
  sidecarImage: string;
  /** Also a NetworkPolicy per Agent: the diagnostics port only from this namespace's pods. */
  networkPolicy?: { diagnosticsFrom: string };
  logger: Logger;
  events?: EventRecorder;
  controlPlane?: {
    client: ControlPlaneClient;
    status: ControlPlaneStatus;
    /** After this long past the deletion request the finalizer goes even if deregistration keeps failing. */
    deregisterTimeoutMs: number;
  };
  now?: () => Date;
}

/**
 * The wire JSON the SDK builds, as client-node's generated model of its kind: the library's own loader does it (JSON
 * is YAML). Patching a plain object would go through that model's serialiser, which drops fields whose model names
 * differ from the JSON ones — a NetworkPolicy's `from` (the model's `_from`) vanished that way and left the sidecar's
 * diagnostics port open to every pod (found by the chart's RBAC test).
 */
const asClientModel = (object: K8sObject): KubernetesObject => loadYaml<KubernetesObject>(JSON.stringify(object));

/**
 * Level-based reconcile of one Agent, read from the informers' caches: server-side-applies its ConfigMap,
 * Deployment and Service (owned by the Agent, so hand edits to fields we own are reverted and deletion
 * garbage-collects them) unless the cached objects already are what we would apply; adds and honours the
 * deregistration finalizer; and writes status only when it changed.
 */
export class AgentReconciler {
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;
  private readonly now: () => Date;
  private readonly writes: Counter<'kind' | 'verb'> | undefined;
  /** resourceVersion each object had right after our last apply, with the desired hash applied. */
  private readonly applied = new Map<string, { hash: string; resourceVersion: string }>();
  private readonly revisions: AgentRevisions;

  constructor(private readonly options: AgentReconcilerOptions) {
    this.objects = KubernetesObjectApi.makeApiClient(options.kubeConfig);
    this.custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
    this.revisions = new AgentRevisions(options.kubeConfig.makeApiClient(AppsV1Api), options.caches.revisions, (verb) =>
      this.writes?.inc({ kind: 'ControllerRevision', verb }),
    );
    this.now = options.now ?? (() => new Date());
    this.writes = options.registry
      ? registered(
          options.registry,
          'agentspec_operator_writes_total',
          (registers) =>
            new Counter({
              name: 'agentspec_operator_writes_total',
              help: 'Requests that write to the apiserver, by kind and verb (a quiet resync adds none)',
              labelNames: ['kind', 'verb'],
              registers,
            }),
        )
      : undefined;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const agent = this.options.caches.agents.get(key);
    if (!agent) {
      const [namespace, name] = key.split('/');
      for (const object of [
        `ConfigMap/${namespace}/${manifestConfigMapName(name ?? '')}`,
        `Deployment/${key}`,
        `Service/${key}`,
      ]) {
        this.applied.delete(object);
      }
      this.deploymentGenerations.delete(key);
      this.warnedGenerations.delete(key);
      this.revisions.forget(key);
      return undefined; // deleted: garbage collection removes what it owned
    }
    if (agent.metadata.deletionTimestamp) return this.finalize(agent);
    if (this.options.controlPlane && !(agent.metadata.finalizers ?? []).includes(FINALIZER_DEREGISTER)) {
      await this.patchFinalizers(agent, [...(agent.metadata.finalizers ?? []), FINALIZER_DEREGISTER]);
      return undefined; // the update comes back through the informer
    }
    const rollbackTo = agent.metadata.annotations?.[ANNOTATION_ROLLBACK_TO];
    if (rollbackTo !== undefined) return this.rollback(agent, rollbackTo);
    const { name, namespace } = agent.metadata;
    const generation = agent.metadata.generation ?? 0;

    const parsed = agentResourceSpecSchema.safeParse(agent.spec);
    if (!parsed.success) {
      const message = toManifestIssues(parsed.error, ['spec']).map(formatIssue).join('; ');
      return this.fail(agent, Reasons.InvalidSpec, message);
    }
    this.warnOnce(key, generation, agent, parsed.data);
    let workload: K8sObject[];
    try {
      workload = buildWorkload({
        name,
        namespace,
        spec: parsed.data,
        sidecarImage: this.options.sidecarImage,
        ...(this.options.networkPolicy ? { networkPolicy: this.options.networkPolicy } : {}),
        managedBy: FIELD_MANAGER,
        owner: { apiVersion: agent.apiVersion, kind: agent.kind, name, uid: agent.metadata.uid },
      });
    } catch (err) {
      if (!(err instanceof WorkloadError)) throw err;
      return this.fail(agent, err.reason, err.message);
    }
    let deployment = this.options.caches.deployments.get(key);
    let rolled = false;
    // The objects do not depend on each other (a pod waits for its ConfigMap), and the spec's revision is recorded
    // beside them: one round trip of latency per reconcile instead of one per object.
    const [results] = await Promise.all([
      Promise.all(workload.map((object) => this.apply(object))),
      this.revisions.record(agent),
    ]);
    for (const result of results) {
      if (isDeployment(result)) {
        deployment = result;
        rolled ||= (result.metadata?.generation ?? 0) > 1 && this.didChangeSpec(key, result);
      }
    }
    if (rolled) this.options.events?.normal(agent, 'RollingOut', `generation ${generation}: Deployment updated`);

    const fromDeployment = deploymentStatus(deployment);
    const fromControlPlane = controlPlaneStatus(this.controlPlaneView(namespace, name), fromDeployment.fields.phase);
    await this.writeStatus(agent, { ...fromDeployment.fields, ...fromControlPlane.fields }, [
      ...fromDeployment.conditions,
      ...fromControlPlane.conditions,
    ]);
    return undefined;
  }

  private readonly deploymentGenerations = new Map<string, number>();
  private readonly warnedGenerations = new Map<string, number>();

  /**
   * What the spec says that will not work as it seems (the manifest warnings: what upstream's schema accepts and the
   * CRD therefore does too) as one Warning event per generation, for `kubectl describe agent`.
   */
  private warnOnce(key: string, generation: number, agent: AgentObject, spec: AgentResourceSpec): void {
    if (this.warnedGenerations.get(key) === generation) return;
    this.warnedGenerations.set(key, generation);
    const warnings = manifestWarnings(spec);
    if (warnings.length === 0) return;
    const text = warnings.map((w) => `${w.field}: ${w.message}`).join('; ');
    this.options.events?.warning(agent, 'ManifestWarnings', `generation ${generation}: ${text}`);
  }

  /**
   * `agentspec.io/rollback-to`: the Agent's spec becomes that of the revision asked for, and the annotation goes, in
   * one update guarded by the resourceVersion (ADR 0011). A revision that is not kept leaves the spec as it is, with
   * a Warning event saying why.
   */
  private async rollback(agent: AgentObject, wanted: string): Promise<ReconcileResult> {
    const target = await this.revisions.target(agent, wanted);
    const annotations = { ...agent.metadata.annotations };
    delete annotations[ANNOTATION_ROLLBACK_TO];
    const { status: _status, ...body } = agent as AgentObject & { status?: unknown };
    const spec = typeof target === 'string' ? agent.spec : target.spec;
    this.writes?.inc({ kind: 'Agent', verb: 'update' });
    await this.custom.replaceNamespacedCustomObject({
      ...AGENT_RESOURCE,
      namespace: agent.metadata.namespace,
      name: agent.metadata.name,
      body: { ...body, metadata: { ...agent.metadata, annotations }, spec },
    });
    if (typeof target === 'string') {
      this.options.events?.warning(agent, 'RollbackFailed', `${ANNOTATION_ROLLBACK_TO}=${wanted}: ${target}`);
    } else {
      this.options.events?.normal(agent, 'RolledBack', `spec of revision ${target.revision} put back`);
    }
    return undefined; // the update comes back through the informer and is reconciled as any spec change
  }

  /** True when the applied Deployment's generation moved since we last saw it (a spec change rolls it). */
  private didChangeSpec(key: string, deployment: V1Deployment): boolean {
    const generation = deployment.metadata?.generation ?? 0;
    const previous = this.deploymentGenerations.get(key);
    this.deploymentGenerations.set(key, generation);
    return previous !== undefined && previous !== generation;
  }

  private controlPlaneView(namespace: string, name: string): ControlPlaneView {
    const cp = this.options.controlPlane;
    if (!cp) return { configured: false };
    const pods = (this.options.caches.injectedPods?.list(namespace) ?? []).filter(
      (pod) => pod.metadata?.labels?.[LABEL_AGENT_NAME] === name,
    );
    const uninjectedPod = firstUninjectedPod(pods);
    return {
      configured: true,
      reachable: cp.status.isReachable,
      ...(cp.status.error ? { error: cp.status.error } : {}),
      agent: cp.status.get(namespace, name),
      ...(uninjectedPod ? { uninjectedPod } : {}),
    };
  }

  /** Server-side apply unless the cached object is already what we would apply. Returns the applied object. */
  private async apply(object: K8sObject): Promise<KubernetesObject | undefined> {
    const metadata = object.metadata as { name: string; namespace: string; annotations?: Record<string, string> };
    const hash = createHash('sha256').update(JSON.stringify(object)).digest('hex').slice(0, 32);
    metadata.annotations = { ...metadata.annotations, [DESIRED_HASH_ANNOTATION]: hash };
    const key = `${metadata.namespace}/${metadata.name}`;
    const cacheKey = `${object.kind}/${key}`;
    const caches: Record<string, Cache<KubernetesObject> | undefined> = {
      Deployment: this.options.caches.deployments,
      Service: this.options.caches.services,
      ConfigMap: this.options.caches.configMaps,
      NetworkPolicy: this.options.caches.networkPolicies,
    };
    const live = caches[object.kind]?.get(key);
    const last = this.applied.get(cacheKey);
    if (
      live &&
      ((last?.hash === hash && last.resourceVersion === live.metadata?.resourceVersion) || isApplied(object, live))
    ) {
      return undefined;
    }
    this.writes?.inc({ kind: object.kind, verb: 'apply' });
    const result = await this.objects.patch(
      asClientModel(object),
      undefined,
      undefined,
      FIELD_MANAGER,
      true,
      PatchStrategy.ServerSideApply,
    );
    this.applied.set(cacheKey, { hash, resourceVersion: result.metadata?.resourceVersion ?? '' });
    return result;
  }

  private async fail(agent: AgentObject, reason: string, message: string): Promise<ReconcileResult> {
    const changed = await this.writeStatus(agent, { phase: 'Failed' }, [
      { type: 'Ready', status: 'False', reason, message },
      { type: 'Progressing', status: 'False', reason, message },
    ]);
    if (changed) this.options.events?.warning(agent, reason, message);
    return undefined;
  }

  /** Deregisters from the control plane, then lets the Agent go; bounded, so deletion never hangs. */
  private async finalize(agent: AgentObject): Promise<ReconcileResult> {
    const finalizers = agent.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER_DEREGISTER)) return undefined;
    const cp = this.options.controlPlane;
    const { namespace, name } = agent.metadata;
    if (cp) {
      try {
        const existed = await cp.client.deleteAgent(namespace, name);
        this.options.events?.normal(
          agent,
          'Deregistered',
          existed
            ? 'deregistered from the control plane; its tokens are revoked'
            : 'was not registered with the control plane',
        );
      } catch (err) {
        const elapsedMs = this.now().getTime() - new Date(agent.metadata.deletionTimestamp ?? 0).getTime();
        const message = (err as Error).message;
        if (elapsedMs < cp.deregisterTimeoutMs) {
          this.options.logger.warn({ agent: `${namespace}/${name}`, err: message }, 'deregistration failed; retrying');
          this.options.events?.warning(agent, 'DeregisterFailed', `deregistration failed, retrying: ${message}`);
          return { requeueAfterMs: Math.min(5_000, Math.max(100, cp.deregisterTimeoutMs - elapsedMs)) };
        }
        this.options.events?.warning(
          agent,
          'DeregisterTimedOut',
          `gave up deregistering after ${Math.round(elapsedMs / 1000)} s (${message}); its tokens stay valid until they expire`,
        );
      }
    }
    await this.patchFinalizers(
      agent,
      finalizers.filter((f) => f !== FINALIZER_DEREGISTER),
    );
    return undefined;
  }

  /** Guarded by the resourceVersion: a concurrent change makes it fail (and the key is retried). */
  private async patchFinalizers(agent: AgentObject, finalizers: string[]): Promise<void> {
    this.writes?.inc({ kind: 'Agent', verb: 'patch' });
    await patchAgentFinalizers(this.custom, agent, finalizers);
  }

  /**
   * Replaces the status subresource unless nothing would change (no write, no event storm). Conditions that flip
   * become Events. Returns whether it wrote.
   */
  private async writeStatus(
    agent: AgentObject,
    fields: Partial<AgentStatus>,
    updates: ConditionUpdate[],
  ): Promise<boolean> {
    const generation = agent.metadata.generation ?? 0;
    const previous = agent.status ?? {};
    let conditions: AgentCondition[] = previous.conditions ?? [];
    for (const update of updates) {
      const input: ConditionInput = { ...update, observedGeneration: generation };
      conditions = setCondition(conditions, input, this.now());
    }
    const next: AgentStatus = { ...previous, ...fields, observedGeneration: generation, conditions };
    // Key order differs between what we build and what the apiserver returns (sorted): compare structurally.
    if (isDeepStrictEqual(next, previous)) return false;
    this.writes?.inc({ kind: 'Agent/status', verb: 'update' });
    await this.custom.replaceNamespacedCustomObjectStatus({
      ...AGENT_RESOURCE,
      namespace: agent.metadata.namespace,
      name: agent.metadata.name,
      body: { ...agent, status: next },
      fieldManager: FIELD_MANAGER,
    });
    this.recordFlips(agent, previous.conditions ?? [], conditions);
    return true;
  }

  private recordFlips(agent: AgentObject, before: AgentCondition[], after: AgentCondition[]): void {
    const events = this.options.events;
    if (!events) return;
    for (const condition of after) {
      const old = before.find((c) => c.type === condition.type);
      if (old?.status === condition.status && old.reason === condition.reason) continue;
      if (!old && condition.status !== 'True') continue; // a new Agent starts not ready: no news
      if (condition.type === 'Progressing') continue; // RollingOut is recorded where it happens
      const good = condition.status === 'True' || (condition.status === 'Unknown' && condition.type !== 'Ready');
      if (condition.reason === Reasons.MissingImage || condition.reason === Reasons.InvalidSpec) continue; // see fail()
      if (good) events.normal(agent, condition.reason, `${condition.type}: ${condition.message}`);
      else events.warning(agent, condition.reason, `${condition.type}: ${condition.message}`);
    }
  }
}
