import type { Registry } from 'prom-client';

/** The metric `name` of the registry, created on first use: several queues or controllers share one registry. */
export function registered<T>(registry: Registry, name: string, create: (registers: Registry[]) => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create([registry]);
}
