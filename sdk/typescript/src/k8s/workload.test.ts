import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../manifest/load.js';
import type { AgentResourceSpec } from '../manifest/schema.js';
import { DEFAULT_SIDECAR_IMAGE } from './contract.js';
import {
  buildDeployment,
  buildManifestConfigMap,
  buildService,
  buildWorkload,
  renderAgentYaml,
  WorkloadError,
  type WorkloadInput,
} from './workload.js';

const root = resolve(import.meta.dirname, '..', '..', '..', '..');
const coach = loadManifest(resolve(root, 'examples', 'fitness-coach', 'agent.yaml')).resource!;

const input = (spec: AgentResourceSpec = coach.spec): WorkloadInput => ({
  name: 'fitness-coach',
  namespace: 'team-a',
  spec,
  sidecarImage: 'registry.example/agentspec:1.0.0',
  managedBy: 'agentspec-operator',
  owner: { apiVersion: 'agentspec.io/v1', kind: 'Agent', name: 'fitness-coach', uid: 'uid-1' },
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('desired workload of an Agent', () => {
  const deployment = buildDeployment(input()) as Json;
  const pod = deployment['spec'].template;
  const [agent, sidecar] = pod.spec.containers as [Json, Json];

  it('owns every object with a controller reference and labels it', () => {
    for (const object of buildWorkload(input())) {
      expect(object.metadata['ownerReferences']).toEqual([
        {
          apiVersion: 'agentspec.io/v1',
          kind: 'Agent',
          name: 'fitness-coach',
          uid: 'uid-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(object.metadata['labels']).toMatchObject({
        'agentspec.io/agent-name': 'fitness-coach',
        'app.kubernetes.io/managed-by': 'agentspec-operator',
      });
      expect(object.metadata['namespace']).toBe('team-a');
    }
  });

  it('labels the pod template for the webhook and for registration under the Agent name', () => {
    expect(pod.metadata.labels).toMatchObject({
      'agentspec.io/inject': 'true',
      'agentspec.io/agent-name': 'fitness-coach',
    });
    expect(deployment['spec'].selector).toEqual({ matchLabels: { 'agentspec.io/agent-name': 'fitness-coach' } });
    expect(deployment['spec'].replicas).toBe(1);
  });

  it('runs the agent container from spec.deployment', () => {
    expect(agent).toMatchObject({
      name: 'agent',
      image: 'agentspec/example-fitness-coach:0.1.0',
      ports: [{ name: 'http', containerPort: 8000, protocol: 'TCP' }],
      resources: { requests: { cpu: '100m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    });
    expect(agent.env).toContainEqual({ name: 'GYM_NAME', value: 'Riverside Gym' });
    expect(agent.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('adds the agentspec-sidecar on 4000/4001 with seed 001 probes and a restricted security context', () => {
    expect(sidecar).toMatchObject({
      name: 'agentspec-sidecar',
      image: 'registry.example/agentspec:1.0.0',
      ports: [
        { name: 'proxy', containerPort: 4000, protocol: 'TCP' },
        { name: 'diagnostics', containerPort: 4001, protocol: 'TCP' },
      ],
      readinessProbe: {
        httpGet: { path: '/agentspec/health/ready', port: 4001 },
        initialDelaySeconds: 5,
        periodSeconds: 10,
      },
      livenessProbe: {
        httpGet: { path: '/agentspec/health/live', port: 4001 },
        initialDelaySeconds: 15,
        periodSeconds: 30,
      },
      securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
    });
    expect(sidecar.env).toEqual([
      { name: 'UPSTREAM_URL', value: 'http://localhost:8000' },
      { name: 'MANIFEST_PATH', value: '/manifest/agent.yaml' },
      { name: 'PROXY_PORT', value: '4000' },
      { name: 'CONTROL_PLANE_PORT', value: '4001' },
    ]);
    expect(pod.spec.volumes).toEqual([{ name: 'agentspec-manifest', configMap: { name: 'fitness-coach-manifest' } }]);
  });

  it('passes sidecar settings through as its env vars', () => {
    const spec = {
      ...coach.spec,
      deployment: {
        ...coach.spec.deployment!,
        sidecar: {
          opaUrl: 'http://localhost:8181',
          opaProxyMode: 'enforce' as const,
          auditRingSize: 50,
          image: 'mine:1',
        },
      },
    };
    const container = (buildDeployment(input(spec)) as Json)['spec'].template.spec.containers[1];
    expect(container.image).toBe('mine:1');
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'OPA_URL', value: 'http://localhost:8181' },
        { name: 'OPA_PROXY_MODE', value: 'enforce' },
        { name: 'AUDIT_RING_SIZE', value: '50' },
      ]),
    );
  });

  it('puts the agent.yaml in the ConfigMap and rolls pods when it changes', () => {
    const configMap = buildManifestConfigMap(input()) as Json;
    expect(parse(configMap['data']['agent.yaml'])).toEqual({
      apiVersion: 'agentspec.io/v1',
      kind: 'Agent',
      metadata: { name: 'fitness-coach', namespace: 'team-a' },
      spec: coach.spec,
    });
    const hash = (spec: AgentResourceSpec) =>
      (buildDeployment(input(spec)) as Json)['spec'].template.metadata.annotations['agentspec.io/manifest-hash'];
    expect(hash(coach.spec)).toMatch(/^[0-9a-f]{16}$/);
    expect(hash({ ...coach.spec, description: 'changed' })).not.toBe(hash(coach.spec));
    expect(hash(structuredClone(coach.spec))).toBe(hash(coach.spec));
    // Scaling is not a roll-out: the replica count alone leaves the pod template as it is.
    expect(hash({ ...coach.spec, deployment: { ...coach.spec.deployment!, replicas: 3 } })).toBe(hash(coach.spec));
  });

  it('exposes the proxy and diagnostics ports', () => {
    expect((buildService(input()) as Json)['spec']).toEqual({
      selector: { 'agentspec.io/agent-name': 'fitness-coach' },
      ports: [
        { name: 'proxy', port: 4000, targetPort: 'proxy', protocol: 'TCP' },
        { name: 'diagnostics', port: 4001, targetPort: 'diagnostics', protocol: 'TCP' },
      ],
    });
  });

  it('refuses an Agent without an image, with a reason for its condition', () => {
    const { image: _image, ...noImage } = coach.spec.deployment!;
    const error = (() => {
      try {
        buildDeployment(input({ ...coach.spec, deployment: noImage }));
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(WorkloadError);
    expect(error).toMatchObject({
      reason: 'MissingImage',
      message: 'spec.deployment.image is not set: there is no agent image to run',
    });
  });

  it('defaults the sidecar image to this release, never latest', () => {
    const version = (
      JSON.parse(readFileSync(resolve(root, 'sdk', 'typescript', 'package.json'), 'utf8')) as { version: string }
    ).version;
    expect(DEFAULT_SIDECAR_IMAGE).toBe(`ghcr.io/agentspec/sidecar:${version}`);
  });

  it('adds a NetworkPolicy when asked: the proxy open, diagnostics only from the release namespace', () => {
    const input = {
      name: 'coach',
      namespace: 'team-a',
      spec: { deployment: { replicas: 1, port: 8000, image: 'i' } },
      sidecarImage: 's',
      managedBy: 'm',
    } as unknown as Parameters<typeof buildWorkload>[0];
    expect(buildWorkload(input).map((o) => o.kind)).toEqual(['ConfigMap', 'Deployment', 'Service']);
    const withPolicy = buildWorkload({ ...input, networkPolicy: { diagnosticsFrom: 'agentspec-system' } });
    const policy = withPolicy.at(-1) as unknown as { kind: string; spec: { podSelector: unknown; ingress: unknown[] } };
    expect(policy.kind).toBe('NetworkPolicy');
    expect(policy.spec.podSelector).toEqual({ matchLabels: { 'agentspec.io/agent-name': 'coach' } });
    expect(policy.spec.ingress).toEqual([
      { ports: [{ port: 4000, protocol: 'TCP' }] },
      {
        ports: [{ port: 4001, protocol: 'TCP' }],
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'agentspec-system' } } }],
      },
    ]);
  });
});

describe('renderAgentYaml', () => {
  const direct = (name: string, spec: AgentResourceSpec) =>
    stringify(
      { apiVersion: 'agentspec.io/v1', kind: 'Agent', metadata: { name, namespace: 'team-a' }, spec },
      { lineWidth: 0 },
    );

  it('renders what the YAML library renders, for a spec seen before or after its rendering was evicted', () => {
    const variant = (n: number): AgentResourceSpec => ({
      ...coach.spec,
      deployment: { ...coach.spec.deployment!, replicas: n },
    });
    for (const round of [1, 2]) {
      for (let n = 1; n <= 600; n += round === 1 ? 1 : 7) {
        expect(renderAgentYaml('coach', variant(n), 'team-a')).toBe(direct('coach', variant(n)));
      }
    }
    // An equal spec built anew renders alike; a changed one does not.
    expect(renderAgentYaml('coach', structuredClone(variant(3)), 'team-a')).toBe(direct('coach', variant(3)));
    expect(renderAgentYaml('other', variant(3), 'team-a')).toBe(direct('other', variant(3)));
  });
});
