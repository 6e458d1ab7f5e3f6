import type { AgentManifest } from './load.js';
import { parseReference, type ReferenceType } from './refs.js';

export interface ReferenceUse {
  kind: ReferenceType;
  /** The variable, secret, file or function named. */
  target: string;
  /** The first field that uses it, e.g. `spec.model.apiKey`. */
  field: string;
}

/** Every reference in the manifest's spec, once per kind and target, with the first field that uses it. */
export function findReferences(manifest: AgentManifest): ReferenceUse[] {
  const found = new Map<string, ReferenceUse>();
  const walk = (value: unknown, path: string): void => {
    if (typeof value === 'string') {
      const reference = parseReference(value);
      const key = reference && `${reference.kind}:${reference.target}`;
      if (reference && key && !found.has(key)) found.set(key, { ...reference, field: path });
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
  };
  walk(manifest.spec, 'spec');
  return [...found.values()];
}
