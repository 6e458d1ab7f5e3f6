import type { AgentManifest } from './load.js';

export interface ReferenceUse {
  kind: 'env' | 'secret' | 'file' | 'func';
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
      const match = /^\$(env|secret|file|func):(.+)$/.exec(value);
      if (match?.[1] && match[2] && !found.has(`${match[1]}:${match[2]}`)) {
        found.set(`${match[1]}:${match[2]}`, { kind: match[1] as ReferenceUse['kind'], target: match[2], field: path });
      }
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
  };
  walk(manifest.spec, 'spec');
  return [...found.values()];
}
