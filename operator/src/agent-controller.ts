import type {
  KubernetesObject,
  V1ConfigMap,
  V1ControllerRevision,
  V1Deployment,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';
import { ControlPlaneClient, LABEL_AGENT_NAME, LABEL_INJECT } from '@agentspec/sdk';
import { AgentReconciler, FIELD_MANAGER, MANAGED_BY_SELECTOR, type AgentObject } from './agent-reconciler.js';
import type { OperatorConfig } from './config.js';
import { ControlPlaneStatus } from './control-plane-status.js';
import { EventRecorder } from './events.js';
import { keyOf, type Informer, type InformerEvent } from './informer.js';
import type { Manager } from './manager.js';
import { revisionIndex, withoutData } from './revisions.js';

const AGENTS = { apiVersion: 'agentspec.io/v1', kind: 'Agent', plural: 'agents' };
const PODS = { apiVersion: 'v1', kind: 'Pod', plural: 'pods' };

const scope = (config: OperatorConfig) => (config.namespace !== undefined ? { namespace: config.namespace } : {});

/** The Agents the operator reconciles (shared by every controller that maps events to Agents). */
export const agentInformer = (mgr: Manager, config: OperatorConfig): Informer<AgentObject> =>
  mgr.informer<AgentObject>('agents', { ...scope(config), resource: AGENTS, resyncMs: config.resyncSeconds * 1000 });

/** Pods labelled agentspec.io/inject: which namespaces need the registration, whether the webhook injected it. */
export const injectedPodInformer = (mgr: Manager, config: OperatorConfig): Informer<V1Pod> =>
  mgr.informer<V1Pod>('injected-pods', {
    ...scope(config),
    resource: PODS,
    labelSelector: `${LABEL_INJECT}=true`,
    resyncMs: 0,
  });

/** The Agent that owns an object (its ownerReference), as a queue key. */
const ownerAgent = (object: KubernetesObject): string | undefined => {
  const owner = object.metadata?.ownerReferences?.find(
    (o) => o.kind === 'Agent' && o.apiVersion.startsWith('agentspec.io/'),
  );
  return owner && object.metadata?.namespace ? `${object.metadata.namespace}/${owner.name}` : undefined;
};

/** The control plane's view of the fleet, polled with the admin key; undefined when no control plane is configured. */
function controlPlaneFor(
  mgr: Manager,
  config: OperatorConfig,
  enqueue: (key: string) => void,
  agents: Informer<AgentObject>,
) {
  if (!config.controlPlaneUrl) return undefined;
  const client = new ControlPlaneClient({
    baseUrl: config.controlPlaneUrl,
    ...(config.adminKey ? { adminKey: config.adminKey } : {}),
    timeoutMs: 5_000,
  });
  const status = new ControlPlaneStatus({
    client,
    ...scope(config),
    resyncMs: config.controlPlaneResyncSeconds * 1000,
    logger: mgr.logger,
    onChange: (key) => agents.has(key) && enqueue(key),
    onReachabilityChange: () => agents.list().forEach((a) => enqueue(keyOf(a))),
    registry: mgr.registry,
  });
  mgr.add(status);
  return { client, status, deregisterTimeoutMs: config.deregisterTimeoutSeconds * 1000 };
}

/**
 * The Agent controller: watches Agents, the Deployments, ConfigMaps and Services they own, and their pods; each event
 * enqueues the Agent's key; AgentReconciler converges it.
 */
export function setupAgentController(mgr: Manager, config: OperatorConfig): void {
  const agents = agentInformer(mgr, config);
  const owned = { ...scope(config), labelSelector: MANAGED_BY_SELECTOR, resyncMs: 0 };
  const deployments = mgr.informer<V1Deployment>('deployments', {
    ...owned,
    resource: { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  });
  const configMaps = mgr.informer<V1ConfigMap>('configmaps', {
    ...owned,
    resource: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  });
  const services = mgr.informer<V1Service>('services', {
    ...owned,
    resource: { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  });
  const revisions = mgr.informer<V1ControllerRevision>('controllerrevisions', {
    ...scope(config),
    resource: { apiVersion: 'apps/v1', kind: 'ControllerRevision', plural: 'controllerrevisions' },
    labelSelector: LABEL_AGENT_NAME,
    resyncMs: 0,
    transform: withoutData,
    index: revisionIndex,
  });
  const pods = config.releaseNamespace || config.controlPlaneUrl ? injectedPodInformer(mgr, config) : undefined;
  const policyFrom = config.networkPolicies ? config.releaseNamespace : undefined;
  const networkPolicies = policyFrom
    ? mgr.informer<KubernetesObject>('networkpolicies', {
        ...owned,
        resource: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies' },
      })
    : undefined;

  let enqueue: (key: string) => void = () => undefined;
  const controlPlane = controlPlaneFor(mgr, config, (key) => enqueue(key), agents);
  const reconciler = new AgentReconciler({
    kubeConfig: mgr.kubeConfig,
    caches: {
      agents,
      deployments,
      configMaps,
      services,
      revisions,
      ...(pods ? { injectedPods: pods } : {}),
      ...(networkPolicies ? { networkPolicies } : {}),
    },
    sidecarImage: config.sidecarImage,
    ...(policyFrom ? { networkPolicy: { diagnosticsFrom: policyFrom } } : {}),
    logger: mgr.logger,
    registry: mgr.registry,
    events: new EventRecorder({ kubeConfig: mgr.kubeConfig, component: FIELD_MANAGER, logger: mgr.logger }),
    ...(controlPlane ? { controlPlane } : {}),
  });
  const queue = mgr.addController('agent', config.workers, (key) => reconciler.reconcile(key));
  enqueue = (key) => queue.add(key);

  agents.on((_event, object) => queue.add(keyOf(object)));
  const enqueueOwner = (event: InformerEvent, object: KubernetesObject): void => {
    const key = event === 'resync' ? undefined : ownerAgent(object);
    if (key) queue.add(key);
  };
  deployments.on(enqueueOwner);
  configMaps.on(enqueueOwner);
  services.on(enqueueOwner);
  networkPolicies?.on(enqueueOwner);
  // A new pod of an Agent: was the registration injected into it?
  pods?.on((event, pod) => {
    const name = pod.metadata?.labels?.[LABEL_AGENT_NAME];
    if (event === 'add' && name && pod.metadata?.namespace) queue.add(`${pod.metadata.namespace}/${name}`);
  });
}
