import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import { LABEL_AGENT_NAME, LABEL_INJECT, SIDECAR_CONTAINER } from '@agentspec/sdk';

/** The Secret (in the pod's own namespace) and key the admin key is read from. */
export const REGISTRATION_SECRET = 'agentspec-control-plane';
export const REGISTRATION_KEY = 'apiKey';

export interface InjectOptions {
  /** The control plane's URL as pods reach it (the chart sets its Service). */
  controlPlaneUrl: string;
  /** Namespaces never touched. */
  excludedNamespaces: ReadonlySet<string>;
}

export type JsonPatchOperation = { op: 'add'; path: string; value: unknown };

export type InjectDecision =
  | { inject: false; reason: 'not-selected' | 'excluded-namespace' }
  | { inject: true; patch: JsonPatchOperation[]; injected: number };

/** The variables a container should have, in order: the pod's registration, then the registrar choice. */
export function registrationEnv(pod: V1Pod, options: InjectOptions, container: V1Container): V1EnvVar[] {
  const agentName = pod.metadata?.labels?.[LABEL_AGENT_NAME] ?? pod.metadata?.annotations?.[LABEL_AGENT_NAME];
  const hasSidecar = (pod.spec?.containers ?? []).some((c) => c.name === SIDECAR_CONTAINER);
  return [
    { name: 'AGENTSPEC_CONTROL_PLANE_URL', value: options.controlPlaneUrl },
    {
      name: 'AGENTSPEC_ADMIN_KEY',
      valueFrom: { secretKeyRef: { name: REGISTRATION_SECRET, key: REGISTRATION_KEY, optional: true } },
    },
    { name: 'AGENTSPEC_INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'AGENTSPEC_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ...(agentName ? [{ name: 'AGENTSPEC_AGENT_NAME', value: agentName }] : []),
    ...(hasSidecar && container.name !== SIDECAR_CONTAINER ? [{ name: 'AGENTSPEC_REGISTRAR', value: 'sidecar' }] : []),
  ];
}

/** `~` and `/` escaped for a JSON pointer segment. */
const pointer = (segment: string | number): string => String(segment).replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * JSON-patch operations that add the registration variables to each of the pod's containers (never init
 * containers), never overriding a variable the container already has: a container without `env` gets the whole
 * array, one with `env` gets appended entries. Applied to its own output it returns no operations.
 */
export function decideInjection(pod: V1Pod, namespace: string, options: InjectOptions): InjectDecision {
  if (pod.metadata?.labels?.[LABEL_INJECT] !== 'true') return { inject: false, reason: 'not-selected' };
  if (options.excludedNamespaces.has(namespace)) return { inject: false, reason: 'excluded-namespace' };
  const patch: JsonPatchOperation[] = [];
  let injected = 0;
  (pod.spec?.containers ?? []).forEach((container, index) => {
    const present = new Set((container.env ?? []).map((e) => e.name));
    const missing = registrationEnv(pod, options, container).filter((e) => !present.has(e.name));
    if (missing.length === 0) return;
    injected += missing.length;
    const base = `/spec/containers/${pointer(index)}/env`;
    if (container.env === undefined) patch.push({ op: 'add', path: base, value: missing });
    else for (const variable of missing) patch.push({ op: 'add', path: `${base}/-`, value: variable });
  });
  return { inject: true, patch, injected };
}
