import { setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';

/** The Agent resource, as the CustomObjectsApi addresses it. */
export const AGENT_RESOURCE = { group: 'agentspec.io', version: 'v1', plural: 'agents' } as const;

/** What a finalizer patch needs of an Agent. */
export interface AgentRef {
  metadata: { name: string; namespace: string; resourceVersion?: string; finalizers?: string[] };
}

/**
 * Sets an Agent's finalizers with a JSON patch guarded by its resourceVersion: a concurrent change makes it fail
 * (409/422) rather than overwrite someone else's finalizer.
 */
export async function patchAgentFinalizers(
  custom: CustomObjectsApi,
  agent: AgentRef,
  finalizers: string[],
): Promise<void> {
  await custom.patchNamespacedCustomObject(
    {
      ...AGENT_RESOURCE,
      namespace: agent.metadata.namespace,
      name: agent.metadata.name,
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: agent.metadata.resourceVersion },
        { op: agent.metadata.finalizers ? 'replace' : 'add', path: '/metadata/finalizers', value: finalizers },
      ],
    },
    setHeaderOptions('Content-Type', 'application/json-patch+json'),
  );
}
