import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { FINALIZER_DEREGISTER } from '@agentspec/sdk';
import type { Logger } from 'pino';
import { AGENT_RESOURCE, patchAgentFinalizers, type AgentRef } from './agent-api.js';

/**
 * Removes the operator's finalizer from every Agent (of one namespace, or all): what the chart's pre-delete hook runs
 * on `helm uninstall`, so Agents kept with the CRD (crds.keep) and their namespaces can still be deleted once no
 * operator runs. Each patch is guarded by the resourceVersion; an Agent that changed meanwhile is seen again on the
 * next pass. Returns how many it released.
 */
export async function releaseFinalizers(kubeConfig: KubeConfig, logger: Logger, namespace?: string): Promise<number> {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const list = async (): Promise<AgentRef[]> =>
    (
      (namespace === undefined
        ? await custom.listClusterCustomObject(AGENT_RESOURCE)
        : await custom.listNamespacedCustomObject({ ...AGENT_RESOURCE, namespace })) as { items: AgentRef[] }
    ).items;
  let released = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    const held = (await list()).filter((a) => a.metadata.finalizers?.includes(FINALIZER_DEREGISTER));
    if (held.length === 0) return released;
    for (const agent of held) {
      try {
        await patchAgentFinalizers(
          custom,
          agent,
          agent.metadata.finalizers!.filter((f) => f !== FINALIZER_DEREGISTER),
        );
        released++;
        logger.info({ namespace: agent.metadata.namespace, agent: agent.metadata.name }, 'finalizer released');
      } catch (err) {
        const code = (err as { code?: number }).code;
        if (code !== 404 && code !== 409 && code !== 422) throw err; // gone, or changed meanwhile: the next pass sees it
      }
    }
  }
  throw new Error('Agents kept changing while their finalizers were released; run it again');
}
