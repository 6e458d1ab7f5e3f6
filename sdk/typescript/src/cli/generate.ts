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

/** Writes deployable manifests (or a Helm chart) for one agent; returns the files written. */
export function generate(loaded: LoadedManifest, options: GenerateOptions): string[] {
  const name = loaded.manifest.metadata.name;
  const spec = agentSpecOf(loaded);
  const secretName = `${name}-secrets`;
  const files: string[] = [];
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
  const keys = secretKeys(loaded, spec);
  const secretExample = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName, ...(options.namespace && !helm ? { namespace: options.namespace } : {}) },
    type: 'Opaque',
    stringData: Object.fromEntries(keys.map((k) => [k, ''])),
  };

  if (!helm) {
    const dir = join(options.output, 'k8s');
    mkdirSync(dir, { recursive: true });
    const [configMap, deployment, service] = workload as [K8sObject, K8sObject, K8sObject];
    for (const [file, object] of [
      ['configmap.yaml', configMap],
      ['deployment.yaml', deployment],
      ['service.yaml', service],
    ] as const) {
      write(join(dir, file), yaml(object));
      files.push(join(dir, file));
    }
    write(
      join(dir, 'secret.yaml.example'),
      `# Fill in the values, save as secret.yaml and apply it before the Deployment.\n${yaml(secretExample)}`,
    );
    files.push(join(dir, 'secret.yaml.example'));
  } else {
    const templates = join(options.output, 'templates');
    mkdirSync(templates, { recursive: true });
    write(
      join(options.output, 'Chart.yaml'),
      yaml({
        apiVersion: 'v2',
        name,
        description: loaded.manifest.metadata.description,
        type: 'application',
        version: '0.1.0',
        appVersion: loaded.manifest.metadata.version,
      }),
    );
    const colon = image.lastIndexOf(':');
    const [repository, tag] =
      colon > image.lastIndexOf('/')
        ? [image.slice(0, colon), image.slice(colon + 1)]
        : [image, loaded.manifest.metadata.version];
    write(
      join(options.output, 'values.yaml'),
      yaml({
        image: { repository, tag },
        replicaCount: spec.deployment?.replicas ?? 1,
        sidecar: { image: spec.deployment?.sidecar?.image ?? options.sidecarImage ?? DEFAULT_SIDECAR_IMAGE },
        secrets: Object.fromEntries(keys.map((k) => [k, ''])),
      }),
    );
    const templated = (object: K8sObject): string => {
      const deployment =
        object.kind === 'Deployment'
          ? { ...object, spec: { ...(object['spec'] as object), replicas: REPLICAS } }
          : object;
      return yaml(deployment)
        .replace(`image: ${IMAGE}`, 'image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"')
        .replace(`image: ${SIDECAR_IMAGE}`, 'image: {{ .Values.sidecar.image | quote }}')
        .replace(`replicas: ${REPLICAS}`, 'replicas: {{ .Values.replicaCount }}');
    };
    for (const object of workload) {
      const file = join(templates, `${object.kind.toLowerCase()}.yaml`);
      write(file, templated(object));
      files.push(file);
    }
    const secretTemplate = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${secretName}\ntype: Opaque\nstringData:\n{{- range $key, $value := .Values.secrets }}\n  {{ $key }}: {{ $value | quote }}\n{{- end }}\n`;
    write(join(templates, 'secret.yaml'), secretTemplate);
    files.push(join(options.output, 'Chart.yaml'), join(options.output, 'values.yaml'), join(templates, 'secret.yaml'));
  }
  if (options.push) {
    mkdirSync(options.output, { recursive: true });
    const envFile = join(options.output, '.env.agentspec');
    write(envFile, 'AGENTSPEC_URL=https://your-control-plane/agents/report\nAGENTSPEC_KEY=your-api-key\n');
    files.push(envFile);
  }
  return files;
}
