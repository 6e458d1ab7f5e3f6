import { CustomObjectsApi, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { FINALIZER_DEREGISTER } from '@agentspec/sdk';
import type { Logger } from 'pino';

interface AgentMeta {
  metadata: { name: string; namespace: string; resourceVersion?: string; finalizers?: string[] };
}

/**
 * Removes the operator's finalizer from every Agent (of one namespace, or all): what the chart's pre-delete hook runs
 * on `helm uninstall`, so Agents kept with the CRD (crds.keep) and their namespaces can still be deleted once no
 * operator runs. Each patch is guarded by the resourceVersion and retried on a conflict. Returns how many it released.
 */
export async function releaseFinalizers(kubeConfig: KubeConfig, logger: Logger, namespace?: string): Promise<number> {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const crd = { group: 'agentspec.io', version: 'v1', plural: 'agents' };
  const list = async (): Promise<AgentMeta[]> =>
    (
      (namespace === undefined
        ? await custom.listClusterCustomObject(crd)
        : await custom.listNamespacedCustomObject({ ...crd, namespace })) as { items: AgentMeta[] }
    ).items;
  let released = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    const held = (await list()).filter((a) => a.metadata.finalizers?.includes(FINALIZER_DEREGISTER));
    if (held.length === 0) return released;
    for (const agent of held) {
      const finalizers = agent.metadata.finalizers!.filter((f) => f !== FINALIZER_DEREGISTER);
      try {
        await custom.patchNamespacedCustomObject(
          {
            ...crd,
            namespace: agent.metadata.namespace,
            name: agent.metadata.name,
            body: [
              { op: 'test', path: '/metadata/resourceVersion', value: agent.metadata.resourceVersion },
              { op: 'replace', path: '/metadata/finalizers', value: finalizers },
            ],
          },
          setHeaderOptions('Content-Type', 'application/json-patch+json'),
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
