import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { DEFAULT_SIDECAR_IMAGE } from '../k8s/contract.js';
import { buildWorkload, type K8sObject } from '../k8s/workload.js';
import type { LoadedManifest } from '../manifest/load.js';
import { findReferences } from '../manifest/references.js';
import { secretEnvName } from '../manifest/resolve-ref.js';
import type { AgentResourceSpec } from '../manifest/schema.js';

export interface GenerateOptions {
  deploy: 'k8s' | 'helm';
  output: string;
  push: boolean;
  image?: string;
  sidecarImage?: string;
  namespace?: string;
}

const IMAGE = '__AGENTSPEC_IMAGE__';
const SIDECAR_IMAGE = '__AGENTSPEC_SIDECAR_IMAGE__';
const REPLICAS = '__AGENTSPEC_REPLICAS__';

const yaml = (object: unknown): string => stringify(object, { lineWidth: 0 });

/** The Agent spec of either form (the upstream form has no deployment block). */
export function agentSpecOf(loaded: LoadedManifest): AgentResourceSpec {
  if (loaded.resource) return loaded.resource.spec;
  const { name: _name, ...metadata } = loaded.manifest.metadata;
  return { ...metadata, ...loaded.manifest.spec };
}

/** Variables the agent needs from a Secret: $secret: references and $env: references not set in the manifest. */
function secretKeys(loaded: LoadedManifest, spec: AgentResourceSpec): string[] {
  const references = findReferences(loaded.manifest);
  const keys = new Set(references.filter((r) => r.kind === 'secret').map((r) => secretEnvName(r.target)));
  const setInManifest = new Set((spec.deployment?.env ?? []).map((e) => e.name));
  const envNames = references.filter((r) => r.kind === 'env').map((r) => r.target);
  for (const name of [...(loaded.manifest.spec.requires?.envVars ?? []), ...envNames]) {
    if (!setInManifest.has(name)) keys.add(name);
  }
  return [...keys].sort();
}

function write(path: string, content: string): void {
  writeFileSync(path, content);
}

interface Generation {
  loaded: LoadedManifest;
  options: GenerateOptions;
  spec: ReturnType<typeof agentSpecOf>;
  image: string;
  secretName: string;
  keys: string[];
  workload: K8sObject[];
}

/** Writes `content` to `path` and records it. */
function emit(files: string[], path: string, content: string): void {
  write(path, content);
  files.push(path);
}

/** k8s/: the ConfigMap, Deployment and Service, and a Secret example to fill in. */
function writeManifests(g: Generation, files: string[]): void {
  const dir = join(g.options.output, 'k8s');
  mkdirSync(dir, { recursive: true });
  const [configMap, deployment, service] = g.workload as [K8sObject, K8sObject, K8sObject];
  emit(files, join(dir, 'configmap.yaml'), yaml(configMap));
  emit(files, join(dir, 'deployment.yaml'), yaml(deployment));
  emit(files, join(dir, 'service.yaml'), yaml(service));
  const secretExample = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: g.secretName, ...(g.options.namespace ? { namespace: g.options.namespace } : {}) },
    type: 'Opaque',
    stringData: Object.fromEntries(g.keys.map((k) => [k, ''])),
  };
  const example = `# Fill in the values, save as secret.yaml and apply it before the Deployment.\n${yaml(secretExample)}`;
  emit(files, join(dir, 'secret.yaml.example'), example);
}

/** A Deployment or other object as a Helm template: image, sidecar image and replicas from the values. */
function templated(object: K8sObject): string {
  const deployment =
    object.kind === 'Deployment' ? { ...object, spec: { ...(object['spec'] as object), replicas: REPLICAS } } : object;
  return yaml(deployment)
    .replace(`image: ${IMAGE}`, 'image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"')
    .replace(`image: ${SIDECAR_IMAGE}`, 'image: {{ .Values.sidecar.image | quote }}')
    .replace(`replicas: ${REPLICAS}`, 'replicas: {{ .Values.replicaCount }}');
}

/** A Helm chart: Chart.yaml, values.yaml and one template per object plus the Secret. */
function writeChart(g: Generation, files: string[]): void {
  const { loaded, options, image } = g;
  const templates = join(options.output, 'templates');
  mkdirSync(templates, { recursive: true });
  const { name, description, version } = loaded.manifest.metadata;
  const chart = { apiVersion: 'v2', name, description, type: 'application', version: '0.1.0', appVersion: version };
  emit(files, join(options.output, 'Chart.yaml'), yaml(chart));
  const colon = image.lastIndexOf(':');
  const [repository, tag] =
    colon > image.lastIndexOf('/') ? [image.slice(0, colon), image.slice(colon + 1)] : [image, version];
  const values = {
    image: { repository, tag },
    replicaCount: g.spec.deployment?.replicas ?? 1,
    sidecar: { image: g.spec.deployment?.sidecar?.image ?? options.sidecarImage ?? DEFAULT_SIDECAR_IMAGE },
    secrets: Object.fromEntries(g.keys.map((k) => [k, ''])),
  };
  emit(files, join(options.output, 'values.yaml'), yaml(values));
  for (const object of g.workload) emit(files, join(templates, `${object.kind.toLowerCase()}.yaml`), templated(object));
  const secretTemplate = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${g.secretName}\ntype: Opaque\nstringData:\n{{- range $key, $value := .Values.secrets }}\n  {{ $key }}: {{ $value | quote }}\n{{- end }}\n`;
  emit(files, join(templates, 'secret.yaml'), secretTemplate);
}

/** Writes deployable manifests (or a Helm chart) for one agent; returns the files written. */
export function generate(loaded: LoadedManifest, options: GenerateOptions): string[] {
  const name = loaded.manifest.metadata.name;
  const spec = agentSpecOf(loaded);
  const secretName = `${name}-secrets`;
  const helm = options.deploy === 'helm';
  // --image wins over spec.deployment.image, which wins over <name>:<version>.
  const image = options.image ?? spec.deployment?.image ?? `${name}:${loaded.manifest.metadata.version}`;
  const deployment = {
    ...spec.deployment,
    port: spec.deployment?.port ?? 8000,
    replicas: spec.deployment?.replicas ?? 1,
  };
  const workload = buildWorkload({
    name,
    ...(options.namespace && !helm ? { namespace: options.namespace } : {}),
    spec: helm
      ? {
          ...spec,
          deployment: { ...deployment, image: IMAGE, sidecar: { ...deployment.sidecar, image: SIDECAR_IMAGE } },
        }
      : { ...spec, deployment: { ...deployment, image } },
    sidecarImage: options.sidecarImage ?? DEFAULT_SIDECAR_IMAGE,
    managedBy: helm ? 'Helm' : 'agentspec-cli',
    envSecretName: secretName,
  });
  const generation: Generation = { loaded, options, spec, image, secretName, keys: secretKeys(loaded, spec), workload };
  const files: string[] = [];
  if (helm) writeChart(generation, files);
  else writeManifests(generation, files);
  if (options.push) {
    mkdirSync(options.output, { recursive: true });
    const env = 'AGENTSPEC_URL=https://your-control-plane/agents/report\nAGENTSPEC_KEY=your-api-key\n';
    emit(files, join(options.output, '.env.agentspec'), env);
  }
  return files;
}
