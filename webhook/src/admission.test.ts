// AdmissionReviews recorded from the real test apiserver (webhook/fixtures/) through the admission logic.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { admit } from './admission.js';
import type { InjectOptions } from './inject.js';

const options: InjectOptions = {
  controlPlaneUrl: 'http://agentspec-control-plane.agentspec-system:8080',
  excludedNamespaces: new Set(['kube-system', 'kube-public', 'kube-node-lease', 'agentspec-system']),
};
type Review = { request: { uid: string; namespace: string; object: V1Pod; operation: string; dryRun?: boolean } };
const fixture = (name: string): Review =>
  JSON.parse(readFileSync(resolve(import.meta.dirname, '..', 'fixtures', `${name}.json`), 'utf8')) as Review;

interface Answer {
  response: { uid: string; allowed: boolean; patchType?: string; patch?: string };
}
const patchOf = (answer: Answer) =>
  answer.response.patch
    ? (JSON.parse(Buffer.from(answer.response.patch, 'base64').toString('utf8')) as {
        op: string;
        path: string;
        value: unknown;
      }[])
    : [];

/** Applies JSON-patch "add" operations (all the webhook emits) as the apiserver would. */
function applyPatch(pod: V1Pod, patch: { op: string; path: string; value: unknown }[]): V1Pod {
  const copy = structuredClone(pod);
  for (const op of patch) {
    expect(op.op).toBe('add');
    if (op.path === '/metadata/annotations') {
      copy.metadata!.annotations = op.value as Record<string, string>;
      continue;
    }
    if (op.path.startsWith('/metadata/annotations/')) {
      const key = op.path.slice('/metadata/annotations/'.length).replace(/~1/g, '/').replace(/~0/g, '~');
      copy.metadata!.annotations![key] = op.value as string;
      continue;
    }
    const [, spec, containers, index, env, dash] = op.path.split('/');
    expect([spec, containers, env]).toEqual(['spec', 'containers', 'env']);
    const container = copy.spec!.containers[Number(index)]!;
    if (dash === '-') container.env!.push(op.value as V1EnvVar);
    else container.env = op.value as V1EnvVar[];
  }
  return copy;
}

const envOf = (container: V1Container | undefined) =>
  Object.fromEntries((container?.env ?? []).map((e) => [e.name, e]));

function mutate(name: string): { answer: Answer; pod: V1Pod; review: Review } {
  const review = fixture(name);
  const result = admit(review, options);
  expect(result.httpStatus).toBe(200);
  const answer = result.body as Answer;
  expect(answer.response).toMatchObject({ uid: review.request.uid, allowed: true });
  return { answer, review, pod: applyPatch(review.request.object, patchOf(answer)) };
}

describe('admission', () => {
  it('gives a container without env the whole array: URL, admin key by secretKeyRef, downward API, agent name', () => {
    const { answer, pod } = mutate('pod-without-env');
    expect(answer.response.patchType).toBe('JSONPatch');
    expect(patchOf(answer)).toHaveLength(2);
    expect(patchOf(answer)[0]).toMatchObject({ op: 'add', path: '/spec/containers/0/env' });
    // The pod remembers which containers it injected (a later invocation adds nothing).
    expect(pod.metadata?.annotations?.['agentspec.io/injected']).toBe('agent');
    expect(pod.spec?.containers[0]?.env).toEqual([
      { name: 'AGENTSPEC_CONTROL_PLANE_URL', value: options.controlPlaneUrl },
      {
        name: 'AGENTSPEC_ADMIN_KEY',
        valueFrom: { secretKeyRef: { name: 'agentspec-control-plane', key: 'apiKey', optional: true } },
      },
      { name: 'AGENTSPEC_INSTANCE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'AGENTSPEC_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'AGENTSPEC_AGENT_NAME', value: 'coach' },
    ]);
  });

  it('appends entries to a container that has env, keeping the existing ones first', () => {
    const { answer, pod } = mutate('pod-with-env');
    const ops = patchOf(answer);
    expect(ops.slice(0, -1).every((op) => op.path === '/spec/containers/0/env/-')).toBe(true);
    expect(ops.at(-1)?.path).toMatch(/^\/metadata\/annotations/);
    expect(pod.spec?.containers[0]?.env?.map((e) => e.name)).toEqual([
      'LOG_LEVEL',
      'AGENTSPEC_CONTROL_PLANE_URL',
      'AGENTSPEC_ADMIN_KEY',
      'AGENTSPEC_INSTANCE_ID',
      'AGENTSPEC_NAMESPACE',
      'AGENTSPEC_AGENT_NAME',
    ]);
  });

  it('never overrides a value the user set, and reads the agent name from an annotation', () => {
    const { pod } = mutate('pod-user-values');
    const env = envOf(pod.spec?.containers[0]);
    expect(env['AGENTSPEC_CONTROL_PLANE_URL']).toEqual({
      name: 'AGENTSPEC_CONTROL_PLANE_URL',
      value: 'http://my-own-cp:9000',
    });
    expect(env['AGENTSPEC_INSTANCE_ID']).toEqual({ name: 'AGENTSPEC_INSTANCE_ID', value: 'fixed-id' });
    expect(env['AGENTSPEC_AGENT_NAME']).toEqual({ name: 'AGENTSPEC_AGENT_NAME', value: 'coach-from-annotation' });
    expect(pod.spec?.containers[0]?.env?.filter((e) => e.name === 'AGENTSPEC_CONTROL_PLANE_URL')).toHaveLength(1);
  });

  it('never touches init containers', () => {
    const { answer, pod, review } = mutate('pod-init-containers');
    expect(patchOf(answer).some((op) => op.path.includes('initContainers'))).toBe(false);
    expect(pod.spec?.initContainers).toEqual(review.request.object.spec?.initContainers);
  });

  it('with an agentspec-sidecar, tells the other containers that the sidecar registers', () => {
    const { pod } = mutate('pod-with-sidecar');
    const [agent, sidecar] = pod.spec?.containers ?? [];
    expect(envOf(agent)['AGENTSPEC_REGISTRAR']).toEqual({ name: 'AGENTSPEC_REGISTRAR', value: 'sidecar' });
    expect(envOf(sidecar)['AGENTSPEC_REGISTRAR']).toBeUndefined();
    expect(envOf(sidecar)['AGENTSPEC_ADMIN_KEY']).toBeDefined();
    // Only the container that registers gets the key.
    expect(envOf(agent)['AGENTSPEC_ADMIN_KEY']).toBeUndefined();
    expect(pod.metadata?.annotations?.['agentspec.io/injected']).toBe('agent,agentspec-sidecar');
    expect(envOf(sidecar)['UPSTREAM_URL']).toEqual({ name: 'UPSTREAM_URL', value: 'http://localhost:8000' });
  });

  it('changes nothing the second time (reinvocationPolicy: IfNeeded is safe)', () => {
    for (const name of [
      'pod-without-env',
      'pod-with-env',
      'pod-user-values',
      'pod-init-containers',
      'pod-with-sidecar',
    ]) {
      const { pod, review } = mutate(name);
      const again = admit({ ...review, request: { ...review.request, object: pod } }, options);
      expect(again.outcome).toBe('unchanged');
      expect((again.body as Answer).response.patch).toBeUndefined();
    }
  });

  it('gives nothing to a container another webhook added after the injection (reinvocation)', () => {
    const { pod, review } = mutate('pod-without-env');
    const added = structuredClone(pod);
    added.spec!.containers.push({ name: 'mesh-proxy', image: 'proxy:1' });
    const again = admit({ ...review, request: { ...review.request, object: added } }, options);
    expect(again.outcome).toBe('unchanged');
    expect((again.body as Answer).response.patch).toBeUndefined();
  });

  it('skips the variables the pod names in agentspec.io/inject-skip-env (values its envFrom provides win)', () => {
    const review = fixture('pod-without-env');
    const pod = structuredClone(review.request.object);
    pod.metadata!.annotations = {
      ...pod.metadata!.annotations,
      'agentspec.io/inject-skip-env': 'AGENTSPEC_ADMIN_KEY, AGENTSPEC_CONTROL_PLANE_URL',
    };
    pod.spec!.containers[0]!.envFrom = [{ secretRef: { name: 'my-registration' } }];
    const result = admit({ ...review, request: { ...review.request, object: pod } }, options);
    const env = applyPatch(pod, patchOf(result.body as Answer)).spec?.containers[0]?.env?.map((e) => e.name);
    expect(env).toEqual(['AGENTSPEC_INSTANCE_ID', 'AGENTSPEC_NAMESPACE', 'AGENTSPEC_AGENT_NAME']);
  });

  it('leaves unlabelled pods and excluded namespaces alone', () => {
    expect(admit(fixture('pod-unlabelled'), options).outcome).toBe('skipped');
    const review = fixture('pod-without-env');
    const excluded = admit({ ...review, request: { ...review.request, namespace: 'kube-system' } }, options);
    expect(excluded.outcome).toBe('skipped');
    expect((excluded.body as Answer).response).toEqual({ uid: review.request.uid, allowed: true });
  });

  it('answers a dry-run request like any other (the webhook has no side effects)', () => {
    const review = fixture('pod-dry-run');
    expect(review.request.dryRun).toBe(true);
    expect(admit(review, options).outcome).toBe('injected');
  });

  it('answers 400 with a clear message to malformed reviews', () => {
    expect(admit('nope', options)).toMatchObject({ httpStatus: 400, outcome: 'invalid' });
    expect(admit({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview' }, options).detail).toContain(
      'apiVersion/kind',
    );
    const review = fixture('pod-without-env');
    expect(admit({ ...review, request: { ...review.request, uid: undefined } }, options).detail).toBe(
      'request.uid: missing',
    );
    expect(admit({ ...review, request: { ...review.request, object: null } }, options).detail).toContain(
      'request.object',
    );
  });

  it('admits the pod unchanged when something inside fails', () => {
    const review = fixture('pod-without-env');
    const object = {
      ...review.request.object,
      get spec(): never {
        throw new Error('unreadable spec');
      },
    };
    const broken = { ...review, request: { ...review.request, object } };
    const result = admit(broken, options);
    expect(result).toMatchObject({ httpStatus: 200, outcome: 'error' });
    expect((result.body as Answer).response).toEqual({ uid: review.request.uid, allowed: true });
  });

  it('ignores operations other than Pod CREATE', () => {
    const review = fixture('pod-without-env');
    expect(admit({ ...review, request: { ...review.request, operation: 'UPDATE' } }, options).outcome).toBe('skipped');
  });
});
