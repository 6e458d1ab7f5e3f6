import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ManifestError, toManifestIssues } from './errors.js';
import {
  agentResourceSchema,
  agentSpecManifestSchema,
  type AgentResource,
  type AgentSpecManifest,
  type DeploymentSettings,
} from './schema.js';

/** The normalised manifest every SDK function takes: the upstream `kind: AgentSpec` shape. */
export type AgentManifest = AgentSpecManifest;

export interface LoadedManifest {
  /** The agent, normalised to the `kind: AgentSpec` form whichever form the file used. */
  manifest: AgentManifest;
  /** The form the file was written in. */
  kind: 'Agent' | 'AgentSpec';
  /** The file it came from, if any. */
  path?: string;
  /** Directory `$file:` references are resolved against (and may not leave). */
  baseDir: string;
  /** `spec.deployment` of the `kind: Agent` form. */
  deployment?: DeploymentSettings;
  /** The whole resource, for the `kind: Agent` form. */
  resource?: AgentResource;
}

export interface ParseOptions {
  baseDir?: string;
  path?: string;
}

function documentFrom(text: string, file?: string): unknown {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs) || docs.length === 0)
    throw new ManifestError([{ path: '', message: 'the file is empty' }], file);
  if (docs.length > 1) {
    throw new ManifestError([{ path: '', message: `expected one YAML document, found ${docs.length}` }], file);
  }
  const doc = docs[0];
  if (!doc) throw new ManifestError([{ path: '', message: 'the file is empty' }], file);
  if (doc.errors.length > 0) {
    throw new ManifestError(
      doc.errors.map((e) => ({ path: '', message: `YAML: ${e.message.split('\n')[0] ?? e.message}` })),
      file,
    );
  }
  return doc.toJS();
}

/** Converts a validated `kind: Agent` resource to the normalised manifest. */
export function agentResourceToManifest(resource: AgentResource): AgentManifest {
  const { description, version, tags, author, license, deployment: _deployment, ...fields } = resource.spec;
  return {
    apiVersion: 'agentspec.io/v1',
    kind: 'AgentSpec',
    metadata: {
      name: resource.metadata.name,
      version,
      description,
      ...(tags ? { tags } : {}),
      ...(author ? { author } : {}),
      ...(license ? { license } : {}),
    },
    spec: fields,
  };
}

/** Validates a parsed document (either form). Throws ManifestError naming every bad field. */
export function parseManifest(document: unknown, options: ParseOptions = {}): LoadedManifest {
  const baseDir = options.baseDir ?? (options.path ? dirname(resolve(options.path)) : process.cwd());
  const file = options.path;
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new ManifestError(
      [{ path: '', message: 'expected a mapping with apiVersion, kind, metadata and spec' }],
      file,
    );
  }
  const kind = (document as { kind?: unknown }).kind;
  if (kind === 'Agent') {
    const result = agentResourceSchema.safeParse(document, { reportInput: true });
    if (!result.success) throw new ManifestError(toManifestIssues(result.error), file);
    return {
      manifest: agentResourceToManifest(result.data),
      kind: 'Agent',
      baseDir,
      resource: result.data,
      ...(file ? { path: file } : {}),
      ...(result.data.spec.deployment ? { deployment: result.data.spec.deployment } : {}),
    };
  }
  if (kind === 'AgentSpec') {
    const result = agentSpecManifestSchema.safeParse(document, { reportInput: true });
    if (!result.success) throw new ManifestError(toManifestIssues(result.error), file);
    return { manifest: result.data, kind: 'AgentSpec', baseDir, ...(file ? { path: file } : {}) };
  }
  throw new ManifestError([{ path: 'kind', message: 'expected "Agent" or "AgentSpec"' }], file);
}

/** Parses YAML (or JSON) text of either form. */
export function parseManifestText(text: string, options: ParseOptions = {}): LoadedManifest {
  return parseManifest(documentFrom(text, options.path), options);
}

/** Loads and validates an agent.yaml (`kind: Agent` or `kind: AgentSpec`). */
export function loadManifest(path: string): LoadedManifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new ManifestError([{ path: '', message: reason }], path);
  }
  return parseManifestText(text, { path });
}
