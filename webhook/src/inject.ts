import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import {
  ANNOTATION_AGENT_NAME,
  ANNOTATION_INJECTED,
  ANNOTATION_SKIP_ENV,
  ENV,
  LABEL_AGENT_NAME,
  LABEL_INJECT,
  REGISTRATION_SECRET,
  REGISTRATION_SECRET_KEY,
  SIDECAR_CONTAINER,
} from '@agentspec/sdk';

export interface InjectOptions {
  /** The control plane's URL as pods reach it (the chart sets its Service). */
  controlPlaneUrl: string;
  /** Namespaces never touched. */
  excludedNamespaces: ReadonlySet<string>;
}

export type JsonPatchOperation = { op: 'add'; path: string; value: unknown };

/** Whether the pod has an agentspec-sidecar container (then it registers, and only it gets the key). */
function hasSidecar(pod: V1Pod): boolean {
  const containers: unknown = pod.spec?.containers;
  return Array.isArray(containers) && containers.some((c) => (c as V1Container | null)?.name === SIDECAR_CONTAINER);
}

export type InjectDecision =
  | { inject: false; reason: 'not-selected' | 'excluded-namespace' }
  | { inject: true; patch: JsonPatchOperation[]; injected: number };

/**
 * The variables a container should have, in order: the pod's registration, then the registrar choice. The key (the
 * namespace's registration key, by secretKeyRef) goes only to the container that registers: the agentspec-sidecar
 * when the pod has one, otherwise the app containers.
 */
export function registrationEnv(pod: V1Pod, options: InjectOptions, container: V1Container): V1EnvVar[] {
  const named = pod.metadata?.labels?.[LABEL_AGENT_NAME] ?? pod.metadata?.annotations?.[ANNOTATION_AGENT_NAME];
  const agentName = typeof named === 'string' ? named : undefined;
  const sidecarRegisters = hasSidecar(pod);
  const registers = !sidecarRegisters || container.name === SIDECAR_CONTAINER;
  return [
    { name: ENV.controlPlaneUrl, value: options.controlPlaneUrl },
    ...(registers
      ? [
          {
            name: ENV.adminKey,
            valueFrom: { secretKeyRef: { name: REGISTRATION_SECRET, key: REGISTRATION_SECRET_KEY, optional: true } },
          },
        ]
      : []),
    { name: ENV.instanceId, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: ENV.namespace, valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ...(agentName ? [{ name: ENV.agentName, value: agentName }] : []),
    ...(sidecarRegisters && !registers ? [{ name: ENV.registrar, value: 'sidecar' }] : []),
  ];
}

/** `~` and `/` escaped for a JSON pointer segment. */
const pointer = (segment: string | number): string => String(segment).replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * JSON-patch operations that add the registration variables to each of the pod's containers (never init
 * containers), never overriding a variable the container already has: a container without `env` gets the whole
 * array, one with `env` gets appended entries. The pod is annotated with the containers injected; a pod that
 * already carries the annotation gets nothing more (a container another webhook added since gets no key). Applied
 * to its own output it returns no operations.
 */
export function decideInjection(pod: V1Pod, namespace: string, options: InjectOptions): InjectDecision {
  if (pod.metadata?.labels?.[LABEL_INJECT] !== 'true') return { inject: false, reason: 'not-selected' };
  if (options.excludedNamespaces.has(namespace)) return { inject: false, reason: 'excluded-namespace' };
  const patch: JsonPatchOperation[] = [];
  let injected = 0;
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const metadata: unknown = pod.metadata;
  const annotations: unknown = isMap(metadata) ? metadata['annotations'] : undefined;
  const annotated = isMap(annotations);
  if (annotated && typeof (annotations as Record<string, unknown>)[ANNOTATION_INJECTED] === 'string') {
    return { inject: true, patch, injected };
  }
  const names: string[] = [];
  const skip = annotated ? (annotations as Record<string, unknown>)[ANNOTATION_SKIP_ENV] : undefined;
  const skipped = typeof skip === 'string' ? skip.split(',').map((n) => n.trim()) : [];
  const containers: unknown = pod.spec?.containers;
  if (!Array.isArray(containers)) return { inject: true, patch, injected };
  (containers as (V1Container | null)[]).forEach((container, index) => {
    // What the apiserver would never send (a container or env that is no object or list) is left alone.
    if (typeof container !== 'object' || container === null || Array.isArray(container)) return;
    const env: unknown = container.env;
    if (env !== undefined && env !== null && !Array.isArray(env)) return;
    const present = new Set(((env ?? []) as unknown[]).map((e) => (e as { name?: unknown } | null)?.name));
    for (const name of skipped) present.add(name);
    const missing = registrationEnv(pod, options, container).filter((e) => !present.has(e.name));
    if (missing.length === 0) return;
    injected += missing.length;
    if (typeof container.name === 'string') names.push(container.name);
    const base = `/spec/containers/${pointer(index)}/env`;
    // `add` on a missing or null member sets the whole list; on a list, each variable is appended.
    if (env === undefined || env === null) patch.push({ op: 'add', path: base, value: missing });
    else for (const variable of missing) patch.push({ op: 'add', path: `${base}/-`, value: variable });
  });
  if (patch.length > 0) {
    const value = names.join(',');
    const annotation = { [ANNOTATION_INJECTED]: value };
    if (annotated) patch.push({ op: 'add', path: `/metadata/annotations/${pointer(ANNOTATION_INJECTED)}`, value });
    else if (isMap(metadata)) patch.push({ op: 'add', path: '/metadata/annotations', value: annotation });
    else patch.push({ op: 'add', path: '/metadata', value: { annotations: annotation } });
  }
  return { inject: true, patch, injected };
}
