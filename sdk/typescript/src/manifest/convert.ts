import { parseManifest } from './load.js';

export interface ConvertOptions {
  namespace?: string;
}

/**
 * Converts an upstream `kind: AgentSpec` document into the `kind: Agent` resource, moving version, description,
 * tags, author and license into `spec`. Works on the document as written (no defaults are added) and validates
 * both the input and the result.
 */
export function convertToAgentResource(document: unknown, options: ConvertOptions = {}): Record<string, unknown> {
  const loaded = parseManifest(document);
  if (loaded.kind === 'Agent') throw new Error('the manifest is already kind: Agent');
  const raw = document as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
  const { name, ...metadataFields } = raw.metadata;
  const resource = {
    apiVersion: 'agentspec.io/v1',
    kind: 'Agent',
    metadata: { name, ...(options.namespace ? { namespace: options.namespace } : {}) },
    spec: { ...metadataFields, ...raw.spec },
  };
  parseManifest(resource);
  return resource;
}
