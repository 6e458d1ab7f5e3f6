// The Kubernetes objects that run one agent: a ConfigMap with its agent.yaml, a Deployment with the agent and
// the agentspec-sidecar, and a Service. Pure functions: the operator applies them, `agentspec generate` writes them.
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { AgentResourceSpec, DeploymentSettings } from '../manifest/schema.js';
import {
  ENV,
  AGENT_CONTAINER,
  ANNOTATION_MANIFEST_HASH,
  DIAGNOSTICS_PORT,
  LABEL_AGENT_NAME,
  LABEL_INJECT,
  MANIFEST_FILE,
  MANIFEST_MOUNT_DIR,
  PROXY_PORT,
  SIDECAR_CONTAINER,
} from './contract.js';

/** The metadata of an object this package builds (the fields of Kubernetes' ObjectMeta it sets). */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

/** A Kubernetes object as built here: typed kind, version and metadata; the rest is the kind's own spec. */
export type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
};

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface WorkloadInput {
  name: string;
  namespace?: string;
  spec: AgentResourceSpec;
  /** agentspec-sidecar image when spec.deployment.sidecar.image is not set. */
  sidecarImage: string;
  /** Agent image when spec.deployment.image is not set (the CLI's --image); the operator requires one. */
  defaultImage?: string;
  /** Who manages the objects (app.kubernetes.io/managed-by). */
  managedBy: string;
  owner?: OwnerReference;
  /** Secret whose keys become the agent's environment (optional: true), e.g. from secret.yaml.example. */
  envSecretName?: string;
  /** Also a NetworkPolicy for the agent's pods: the diagnostics port only from this namespace (the release's). */
  networkPolicy?: { diagnosticsFrom: string };
}

export const DEFAULT_SIDECAR_RESOURCES = { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } };

const restrictedContainer = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export function manifestConfigMapName(agent: string): string {
  return `${agent}-manifest`;
}

/**
 * The agent.yaml renderings made last, by the SHA-256 of the resource's JSON: the operator renders an Agent's twice per
 * reconcile (its ConfigMap, and the hash in the pod template) and reconciles it again for each echo of its own writes,
 * and rendering YAML cost a third of its CPU. Bounded: the least recently used rendering goes first.
 */
const renderings = new Map<string, string>();
const MAX_RENDERINGS = 512;

/** The agent.yaml the sidecar (and an SDK in the agent) reads: the Agent resource without status or server fields. */
export function renderAgentYaml(name: string, spec: AgentResourceSpec, namespace?: string): string {
  const resource = {
    apiVersion: 'agentspec.io/v1',
    kind: 'Agent',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec,
  };
  const key = createHash('sha256').update(JSON.stringify(resource)).digest('base64');
  let yaml = renderings.get(key);
  if (yaml === undefined) {
    yaml = stringify(resource, { lineWidth: 0 });
    if (renderings.size >= MAX_RENDERINGS) renderings.delete(renderings.keys().next().value!);
  } else {
    renderings.delete(key); // most recently used last
  }
  renderings.set(key, yaml);
  return yaml;
}

function meta(input: WorkloadInput, name: string, component: string): ObjectMeta {
  return {
    name,
    ...(input.namespace ? { namespace: input.namespace } : {}),
    labels: {
      'app.kubernetes.io/name': input.name,
      'app.kubernetes.io/component': component,
      'app.kubernetes.io/part-of': 'agentspec',
      'app.kubernetes.io/managed-by': input.managedBy,
      [LABEL_AGENT_NAME]: input.name,
    },
    ...(input.owner ? { ownerReferences: [{ controller: true, blockOwnerDeletion: true, ...input.owner }] } : {}),
  };
}

export function buildManifestConfigMap(input: WorkloadInput): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(input, manifestConfigMapName(input.name), 'manifest'),
    data: { [MANIFEST_FILE]: renderAgentYaml(input.name, input.spec, input.namespace) },
  };
}

function sidecarEnv(deployment: DeploymentSettings): { name: string; value: string }[] {
  const env = [
    { name: 'UPSTREAM_URL', value: `http://localhost:${deployment.port}` },
    { name: 'MANIFEST_PATH', value: `${MANIFEST_MOUNT_DIR}/${MANIFEST_FILE}` },
    { name: 'PROXY_PORT', value: String(PROXY_PORT) },
    { name: 'CONTROL_PLANE_PORT', value: String(DIAGNOSTICS_PORT) },
  ];
  const sidecar = deployment.sidecar;
  if (sidecar?.auditRingSize) env.push({ name: 'AUDIT_RING_SIZE', value: String(sidecar.auditRingSize) });
  if (sidecar?.opaUrl) env.push({ name: 'OPA_URL', value: sidecar.opaUrl });
  if (sidecar?.opaProxyMode) env.push({ name: 'OPA_PROXY_MODE', value: sidecar.opaProxyMode });
  return env;
}

/** Thrown when an Agent cannot run; `reason` is the condition reason the operator reports. */
export class WorkloadError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'WorkloadError';
  }
}

const MANIFEST_VOLUME = 'agentspec-manifest';
const manifestMount = { name: MANIFEST_VOLUME, mountPath: MANIFEST_MOUNT_DIR, readOnly: true };

/** The user's agent container: their image, command, env and resources, the manifest mounted, restricted. */
function agentContainer(input: WorkloadInput, deployment: DeploymentSettings, image: string) {
  const envFrom = [
    ...(deployment.envFrom ?? []),
    ...(input.envSecretName ? [{ secretRef: { name: input.envSecretName, optional: true } }] : []),
  ];
  return {
    name: AGENT_CONTAINER,
    image,
    ...(deployment.imagePullPolicy ? { imagePullPolicy: deployment.imagePullPolicy } : {}),
    ...(deployment.command ? { command: deployment.command } : {}),
    ...(deployment.args ? { args: deployment.args } : {}),
    ports: [{ name: 'http', containerPort: deployment.port, protocol: 'TCP' }],
    env: [{ name: ENV.manifestPath, value: `${MANIFEST_MOUNT_DIR}/${MANIFEST_FILE}` }, ...(deployment.env ?? [])],
    ...(envFrom.length ? { envFrom } : {}),
    ...(deployment.resources ? { resources: deployment.resources } : {}),
    securityContext: { ...restrictedContainer, ...(deployment.runAsUser ? { runAsUser: deployment.runAsUser } : {}) },
    volumeMounts: [manifestMount],
  };
}

/** The agentspec-sidecar container: proxy and diagnostics ports, readiness and liveness probes, restricted. */
function sidecarContainer(input: WorkloadInput, deployment: DeploymentSettings) {
  // Ready: the agent and its dependencies answer. Alive: the sidecar itself answers — a dependency that is down must
  // take the pod out of its Service, never make the kubelet restart the sidecar over and over.
  const probe = (path: string, initialDelaySeconds: number, periodSeconds: number) => ({
    httpGet: { path, port: DIAGNOSTICS_PORT },
    initialDelaySeconds,
    periodSeconds,
  });
  return {
    name: SIDECAR_CONTAINER,
    image: deployment.sidecar?.image ?? input.sidecarImage,
    ports: [
      { name: 'proxy', containerPort: PROXY_PORT, protocol: 'TCP' },
      { name: 'diagnostics', containerPort: DIAGNOSTICS_PORT, protocol: 'TCP' },
    ],
    env: sidecarEnv(deployment),
    readinessProbe: probe('/agentspec/health/ready', 5, 10),
    livenessProbe: probe('/agentspec/health/live', 15, 30),
    resources: deployment.sidecar?.resources ?? DEFAULT_SIDECAR_RESOURCES,
    securityContext: { ...restrictedContainer, runAsNonRoot: true, readOnlyRootFilesystem: true },
    volumeMounts: [manifestMount],
  };
}

/** The hash of the rendered agent.yaml without the replica count: scaling is not a roll-out, a manifest change is. */
function manifestHashOf(input: WorkloadInput, deployment: DeploymentSettings): string {
  const unscaled = buildManifestConfigMap({
    ...input,
    spec: { ...input.spec, deployment: { ...deployment, replicas: 1 } },
  });
  return createHash('sha256').update(JSON.stringify(unscaled['data'])).digest('hex').slice(0, 16);
}

export function buildDeployment(input: WorkloadInput): K8sObject {
  const deployment: DeploymentSettings = input.spec.deployment ?? { replicas: 1, port: 8000 };
  const image = deployment.image ?? input.defaultImage;
  if (!image)
    throw new WorkloadError('MissingImage', 'spec.deployment.image is not set: there is no agent image to run');
  const selector = { [LABEL_AGENT_NAME]: input.name };
  const labels = { ...deployment.podLabels, ...selector, [LABEL_INJECT]: 'true', 'app.kubernetes.io/name': input.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(input, input.name, 'agent'),
    spec: {
      replicas: deployment.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels,
          annotations: { ...deployment.podAnnotations, [ANNOTATION_MANIFEST_HASH]: manifestHashOf(input, deployment) },
        },
        spec: {
          ...(deployment.serviceAccountName ? { serviceAccountName: deployment.serviceAccountName } : {}),
          // Pod Security "restricted": non-root, no privilege escalation, no capabilities, the runtime's seccomp profile.
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [agentContainer(input, deployment, image), sidecarContainer(input, deployment)],
          volumes: [{ name: MANIFEST_VOLUME, configMap: { name: manifestConfigMapName(input.name) } }],
        },
      },
    },
  };
}

export function buildService(input: WorkloadInput): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(input, input.name, 'agent'),
    spec: {
      selector: { [LABEL_AGENT_NAME]: input.name },
      ports: [
        { name: 'proxy', port: PROXY_PORT, targetPort: 'proxy', protocol: 'TCP' },
        { name: 'diagnostics', port: DIAGNOSTICS_PORT, targetPort: 'diagnostics', protocol: 'TCP' },
      ],
    },
  };
}

/**
 * The ingress of an Agent's pods: the sidecar's proxy from anywhere (the agent's traffic), its diagnostics port
 * (health, gap, the audit ring) only from `diagnosticsFrom`'s pods; nothing else (the agent itself is reached
 * through the proxy). Kubelet probes are not subject to it.
 */
export function buildNetworkPolicy(input: WorkloadInput, diagnosticsFrom: string): K8sObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(input, input.name, 'agent'),
    spec: {
      podSelector: { matchLabels: { [LABEL_AGENT_NAME]: input.name } },
      policyTypes: ['Ingress'],
      ingress: [
        { ports: [{ port: PROXY_PORT, protocol: 'TCP' }] },
        {
          ports: [{ port: DIAGNOSTICS_PORT, protocol: 'TCP' }],
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': diagnosticsFrom } } }],
        },
      ],
    },
  };
}

/** ConfigMap, Deployment, Service (and the NetworkPolicy when asked for), in apply order. */
export function buildWorkload(input: WorkloadInput): K8sObject[] {
  return [
    buildManifestConfigMap(input),
    buildDeployment(input),
    buildService(input),
    ...(input.networkPolicy ? [buildNetworkPolicy(input, input.networkPolicy.diagnosticsFrom)] : []),
  ];
}
