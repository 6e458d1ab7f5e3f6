/**
 * The contract between the components: every name one component writes and another reads (labels, annotations,
 * the registration Secret, the injected environment, the finalizer). Operator, webhook, control plane, sidecar, SDK,
 * CLI and the chart tests import it from here; nothing else spells these names.
 */

/** Pods with this label set to "true" get the registration variables from the webhook. */
export const LABEL_INJECT = 'agentspec.io/inject';
/** The Agent a pod (or an owned object) belongs to. */
export const LABEL_AGENT_NAME = 'agentspec.io/agent-name';
/** The same, as an annotation: for pods of your own whose labels you do not control (the label wins). */
export const ANNOTATION_AGENT_NAME = 'agentspec.io/agent-name';
/** The hash of the rendered manifest on the pod template: a changed manifest rolls the pods. */
export const ANNOTATION_MANIFEST_HASH = 'agentspec.io/manifest-hash';
/**
 * Set by the webhook on the pods it injected (the containers it gave variables): a later invocation (after another
 * webhook added a container) adds nothing, so the registration key never spreads to containers added after it.
 */
export const ANNOTATION_INJECTED = 'agentspec.io/injected';
/**
 * Comma-separated variable names the webhook must not inject into this pod: for values a container gets from its
 * `envFrom` (Kubernetes gives `env` precedence over `envFrom`, and the webhook cannot see the keys of the Secrets and
 * ConfigMaps a container names, so without this an injected variable would win over the user's).
 */
export const ANNOTATION_SKIP_ENV = 'agentspec.io/inject-skip-env';
/**
 * Set on an Agent (`kubectl annotate agent <name> agentspec.io/rollback-to=<revision>|previous`): the operator puts
 * back the spec of that recorded revision (its ControllerRevisions, `kubectl get controllerrevisions -l
 * agentspec.io/agent-name=<name>`) and removes the annotation (ADR 0011).
 */
export const ANNOTATION_ROLLBACK_TO = 'agentspec.io/rollback-to';
/** Spec revisions the operator keeps per Agent (the oldest go first). */
export const REVISION_HISTORY_LIMIT = 10;
/** The operator's finalizer on Agents: deregisters the agent from the control plane before it goes. */
export const FINALIZER_DEREGISTER = 'agentspec.io/deregister';

import { createHmac } from 'node:crypto';

/** The Secret (in the release namespace, and copied into agent namespaces) that holds the registration key. */
export const REGISTRATION_SECRET = 'agentspec-control-plane';
/** Its key with the admin key (release namespace) or the namespace's registration key (agent namespaces). */
export const REGISTRATION_SECRET_KEY = 'apiKey';

/** How a namespace-scoped registration key starts: `agentspec-ns.<namespace>.<mac>`. */
export const SCOPED_KEY_PREFIX = 'agentspec-ns';

/**
 * The registration key of one namespace: HMAC-SHA256 of the namespace under the admin key (ADR 0006). It registers
 * and heartbeats instances of that namespace only; it is derived, never stored by the control plane, and changes
 * when the admin key does.
 */
export function scopedRegistrationKey(adminKey: string, namespace: string): string {
  const mac = createHmac('sha256', adminKey).update(`agentspec-registration:${namespace}`).digest('base64url');
  return `${SCOPED_KEY_PREFIX}.${namespace}.${mac}`;
}

/** The namespace a key claims to be scoped to (not verified: only the admin key can verify it), or undefined. */
export function scopedKeyNamespace(key: string): string | undefined {
  const [prefix, namespace, mac, ...rest] = key.split('.');
  return prefix === SCOPED_KEY_PREFIX && namespace && mac && rest.length === 0 ? namespace : undefined;
}
/** Its key with the JWT signing secret (release namespace only). */
export const JWT_SECRET_KEY = 'jwtSecret';

/** The environment the webhook injects and the SDK and sidecar read (seed 000's names: the user's contract). */
export const ENV = {
  controlPlaneUrl: 'AGENTSPEC_CONTROL_PLANE_URL',
  adminKey: 'AGENTSPEC_ADMIN_KEY',
  instanceId: 'AGENTSPEC_INSTANCE_ID',
  namespace: 'AGENTSPEC_NAMESPACE',
  agentName: 'AGENTSPEC_AGENT_NAME',
  /** `sidecar` on the app containers of a pod whose sidecar registers: the SDK inside stays silent. */
  registrar: 'AGENTSPEC_REGISTRAR',
  manifestPath: 'AGENTSPEC_MANIFEST_PATH',
  /** Hosted mode (seed 003): the instance's public https:// URL; the control plane calls it instead of a socket. */
  publicUrl: 'AGENTSPEC_PUBLIC_URL',
} as const;

export const SIDECAR_CONTAINER = 'agentspec-sidecar';
export const AGENT_CONTAINER = 'agent';
export const PROXY_PORT = 4000;
export const DIAGNOSTICS_PORT = 4001;
export const MANIFEST_MOUNT_DIR = '/manifest';
export const MANIFEST_FILE = 'agent.yaml';
/** The sidecar image `agentspec generate` uses by default: the release matching this SDK (never `latest`). */
export const DEFAULT_SIDECAR_IMAGE = 'ghcr.io/agentspec/sidecar:0.1.0';
