import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { REGISTRATION_SECRET } from '@agentspec/sdk';
import { agentInformer, injectedPodInformer } from './agent-controller.js';
import { FIELD_MANAGER } from './agent-reconciler.js';
import type { OperatorConfig } from './config.js';
import { combinedCache, type InformerEvent } from './informer.js';
import type { Manager } from './manager.js';
import { RegistrationSecretReconciler } from './registration-secret.js';

const SECRETS = { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' };

/**
 * The registration-Secret controller: keys are namespaces. A namespace with Agents or injected pods gets a copy of the
 * release namespace's registration Secret; one with neither loses it. Only when the release namespace is known.
 */
export function setupRegistrationSecretController(mgr: Manager, config: OperatorConfig): void {
  const source = config.releaseNamespace;
  if (!source) return;
  const sourceName = config.sourceSecret;
  // Only Secrets of that name (the copies), cluster-wide or in the watched namespace, plus the source Secret: the
  // RBAC grants no other (resourceNames), and a field-selected watch is what it allows.
  const copies = config.namespace === undefined ? [undefined] : [config.namespace];
  const watched = [
    ...copies.map((namespace) => ({ namespace, name: REGISTRATION_SECRET })),
    ...(sourceName !== REGISTRATION_SECRET || (config.namespace !== undefined && config.namespace !== source)
      ? [{ namespace: source, name: sourceName }]
      : []),
  ];
  const secrets = watched.map(({ namespace, name }) =>
    mgr.informer<V1Secret>(`registration-secrets/${namespace ?? '*'}/${name}`, {
      ...(namespace !== undefined ? { namespace } : {}),
      resource: SECRETS,
      fieldSelector: `metadata.name=${name}`,
      resyncMs: 0,
    }),
  );
  const agents = agentInformer(mgr, config);
  const pods = injectedPodInformer(mgr, config);
  const reconciler = new RegistrationSecretReconciler({
    kubeConfig: mgr.kubeConfig,
    sourceNamespace: source,
    sourceName,
    caches: { agents, injectedPods: pods, secrets: combinedCache(secrets) },
    fieldManager: FIELD_MANAGER,
    logger: mgr.logger,
  });
  const queue = mgr.addController('registration-secret', 1, (namespace) => reconciler.reconcile(namespace));
  const byNamespace = (event: InformerEvent, object: KubernetesObject): void => {
    if (event === 'update' && object.kind === 'Pod') return; // pod status churn: namespaces only change on add/delete
    const namespace = object.metadata?.namespace;
    if (!namespace) return;
    if (namespace === source && object.metadata?.name === sourceName) {
      for (const ns of reconciler.namespaces()) queue.add(ns);
    } else {
      queue.add(namespace);
    }
  };
  agents.on(byNamespace);
  pods.on(byNamespace);
  for (const informer of secrets) informer.on(byNamespace);
}
