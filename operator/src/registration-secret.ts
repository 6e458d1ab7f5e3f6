import { REGISTRATION_SECRET, REGISTRATION_SECRET_KEY, scopedRegistrationKey } from '@agentspec/sdk';
import {
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Pod,
  type V1Secret,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { AgentObject } from './agent-reconciler.js';
import type { ReconcileResult } from './controller-runner.js';
import type { Cache } from './informer.js';

/** Marks the copies this operator made (and may delete). */
export const COPY_LABEL = 'agentspec.io/registration-copy';

export interface RegistrationSecretOptions {
  kubeConfig: KubeConfig;
  /** Where the chart's Secret lives (the release namespace); never copied into itself. */
  sourceNamespace: string;
  /** The name of the Secret there holding the admin key. */
  sourceName: string;
  caches: {
    agents: Cache<AgentObject>;
    injectedPods: Cache<V1Pod>;
    /** Secrets named agentspec-control-plane: the source (release namespace) and every copy. */
    secrets: Cache<V1Secret>;
  };
  fieldManager: string;
  logger: Logger;
}

const isNotFound = (err: unknown): boolean => (err as { code?: number }).code === 404;

/**
 * Keeps `agentspec-control-plane` (key `apiKey` only) in every namespace that holds Agents or pods labelled
 * `agentspec.io/inject: "true"`, and deletes the copies it made once a namespace needs none. The key it writes is
 * that namespace's registration key, derived from the admin key of the release namespace's Secret (ADR 0006): it
 * registers instances of that namespace only, so the admin key never leaves the release namespace. Keyed by
 * namespace.
 */
export class RegistrationSecretReconciler {
  private readonly core: CoreV1Api;

  constructor(private readonly options: RegistrationSecretOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
  }

  /** The namespaces to look at when the source Secret changes: every namespace with a reason or a copy. */
  namespaces(): Set<string> {
    const { agents, injectedPods, secrets } = this.options.caches;
    const all = new Set<string>();
    for (const o of [...agents.list(), ...injectedPods.list(), ...secrets.list()]) {
      if (o.metadata?.namespace) all.add(o.metadata.namespace);
    }
    all.delete(this.options.sourceNamespace);
    return all;
  }

  async reconcile(namespace: string): Promise<ReconcileResult> {
    if (namespace === this.options.sourceNamespace) return undefined;
    const { agents, injectedPods, secrets } = this.options.caches;
    const source = secrets.get(`${this.options.sourceNamespace}/${this.options.sourceName}`);
    const adminKey = source?.data?.[REGISTRATION_SECRET_KEY];
    const apiKey = adminKey
      ? Buffer.from(scopedRegistrationKey(Buffer.from(adminKey, 'base64').toString('utf8'), namespace)).toString(
          'base64',
        )
      : undefined;
    const needed = agents.list(namespace).length > 0 || injectedPods.list(namespace).length > 0;
    const copy = secrets.get(`${namespace}/${REGISTRATION_SECRET}`);
    const ours = copy?.metadata?.labels?.[COPY_LABEL] === 'true';

    if (!needed || !apiKey) {
      if (copy && ours) {
        try {
          await this.core.deleteNamespacedSecret({ name: REGISTRATION_SECRET, namespace });
          this.options.logger.info({ namespace }, 'removed the registration Secret copy');
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      return undefined;
    }
    if (copy && !ours) return undefined; // a Secret the user made: theirs to keep
    if (copy?.data?.[REGISTRATION_SECRET_KEY] === apiKey && Object.keys(copy.data).length === 1) return undefined;
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: REGISTRATION_SECRET,
        namespace,
        labels: {
          [COPY_LABEL]: 'true',
          'app.kubernetes.io/managed-by': this.options.fieldManager,
          'app.kubernetes.io/part-of': 'agentspec',
        },
        annotations: { 'agentspec.io/derived-from': `${this.options.sourceNamespace}/${this.options.sourceName}` },
      },
      type: 'Opaque',
      data: { [REGISTRATION_SECRET_KEY]: apiKey },
    };
    await this.core.patchNamespacedSecret(
      { name: REGISTRATION_SECRET, namespace, body, fieldManager: this.options.fieldManager, force: true },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    this.options.logger.info(
      { namespace },
      copy ? 'updated the registration Secret copy' : 'copied the registration Secret',
    );
    return undefined;
  }
}
