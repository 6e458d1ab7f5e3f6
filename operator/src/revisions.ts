import { createHash } from 'node:crypto';
import type { AppsV1Api, KubernetesObject, V1ControllerRevision } from '@kubernetes/client-node';
import { LABEL_AGENT_NAME, REVISION_HISTORY_LIMIT } from '@agentspec/sdk';
import { isConflict } from './api-error.js';

/** What revisions need of an Agent. */
export interface RevisionSubject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid?: string };
  spec: unknown;
}

const specHash = (spec: unknown): string =>
  createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 10);
const revisionName = (agent: RevisionSubject, spec: unknown): string => `${agent.metadata.name}-${specHash(spec)}`;
const numberOf = (r: V1ControllerRevision): number => Number(r.revision ?? 0);

/** The index the revisions informer keeps (`namespace/agent`), so an Agent's revisions are found without a scan. */
export const revisionIndex = (object: KubernetesObject): string | undefined => {
  const agent = object.metadata?.labels?.[LABEL_AGENT_NAME];
  return agent && object.metadata?.namespace ? `${object.metadata.namespace}/${agent}` : undefined;
};

/** What the revisions informer caches of a ControllerRevision: everything but its data (the spec, read by name). */
export const withoutData = (object: KubernetesObject): void => {
  delete (object as V1ControllerRevision).data;
};

/** The cached revisions, by `namespace/agent` (an informer with `index: revisionIndex`, `transform: withoutData`). */
export interface RevisionCache {
  indexed(value: string): V1ControllerRevision[];
}

/**
 * The spec revisions of each Agent, as ControllerRevisions (the apps/v1 object StatefulSets and DaemonSets keep their
 * history in): one per distinct spec, named `<agent>-<hash>`, labelled with the Agent's name, owned by the Agent (so
 * they go with it), numbered in the order the specs were applied. Applying a spec seen before renumbers its revision
 * to the newest, as a Deployment does with its ReplicaSets. The newest REVISION_HISTORY_LIMIT are kept.
 */
export class AgentRevisions {
  /** The spec hash last recorded per Agent: a reconcile of an unchanged spec makes no request. */
  private readonly recorded = new Map<string, string>();
  /** The highest revision number written per Agent: the cache may not show our own last write yet. */
  private readonly written = new Map<string, number>();

  /**
   * `cache`: the revisions informer (found by index, data left out). Listing them from the API server instead reads
   * every revision of the namespace for each Agent: N Agents would cost N² (bench/operator).
   */
  constructor(
    private readonly apps: AppsV1Api,
    private readonly cache: RevisionCache,
    private readonly onWrite: (verb: string) => void = () => undefined,
  ) {}

  /** The Agent's revisions, oldest first, without their data. */
  list(namespace: string, name: string): V1ControllerRevision[] {
    return this.cache
      .indexed(`${namespace}/${name}`)
      .filter((r) => r.metadata?.ownerReferences?.some((o) => o.kind === 'Agent' && o.name === name))
      .sort((a, b) => numberOf(a) - numberOf(b));
  }

  /** Records the spec the Agent now has as its newest revision (unless it already is). */
  async record(agent: RevisionSubject): Promise<void> {
    const { namespace, name } = agent.metadata;
    const key = `${namespace}/${name}`;
    const hash = specHash(agent.spec);
    if (this.recorded.get(key) === hash) return;
    const revisions = this.list(namespace, name);
    const newest = revisions.at(-1);
    const current = revisionName(agent, agent.spec);
    const next = Math.max(newest ? numberOf(newest) : 0, this.written.get(key) ?? 0) + 1;
    const existing = revisions.find((r) => r.metadata?.name === current);
    if (!existing) {
      this.onWrite('create');
      await this.apps
        .createNamespacedControllerRevision({
          namespace,
          body: {
            metadata: {
              name: current,
              namespace,
              labels: { [LABEL_AGENT_NAME]: name },
              ownerReferences: [
                {
                  apiVersion: agent.apiVersion,
                  kind: agent.kind,
                  name,
                  uid: agent.metadata.uid ?? '',
                  controller: true,
                  blockOwnerDeletion: true,
                },
              ],
            },
            data: { spec: agent.spec },
            revision: next,
          },
        })
        .catch((err: unknown) => {
          // The cache is behind: the reconcile is retried once the informer has it.
          throw isConflict(err) ? new Error(`revision ${current} exists but is not cached yet`, { cause: err }) : err;
        });
      this.written.set(key, next);
      revisions.push({ metadata: { name: current }, revision: next });
    } else if (existing !== newest) {
      this.onWrite('update');
      // Read it whole (the cache leaves its data out), renumber it, write it back.
      const whole = await this.apps.readNamespacedControllerRevision({ name: current, namespace });
      await this.apps.replaceNamespacedControllerRevision({
        name: current,
        namespace,
        body: { ...whole, revision: next },
      });
      this.written.set(key, next);
      existing.revision = next;
      revisions.sort((a, b) => numberOf(a) - numberOf(b));
    }
    for (const old of revisions.slice(0, Math.max(0, revisions.length - REVISION_HISTORY_LIMIT))) {
      this.onWrite('delete');
      await this.apps
        .deleteNamespacedControllerRevision({ name: old.metadata?.name ?? '', namespace })
        .catch(() => undefined); // gone already
    }
    this.recorded.set(key, hash);
  }

  /**
   * The spec to roll back to: revision `wanted` (a number), or `previous` (the newest revision whose spec differs
   * from the Agent's). A string saying why not otherwise.
   */
  async target(agent: RevisionSubject, wanted: string): Promise<{ revision: number; spec: unknown } | string> {
    const revisions = this.list(agent.metadata.namespace, agent.metadata.name);
    const current = revisionName(agent, agent.spec);
    let found: V1ControllerRevision | undefined;
    if (wanted.trim() === 'previous') {
      found = revisions.filter((r) => r.metadata?.name !== current).at(-1);
      if (!found) return 'there is no previous revision';
    } else if (/^\d+$/.test(wanted.trim())) {
      found = revisions.find((r) => numberOf(r) === Number(wanted.trim()));
      if (!found) {
        const kept = revisions.map(numberOf).join(', ') || 'none';
        return `revision ${wanted.trim()} is not kept (kept: ${kept})`;
      }
    } else {
      return `"${wanted}" is neither a revision number nor "previous"`;
    }
    // The cache leaves the data out: read the revision whole.
    const whole = await this.apps.readNamespacedControllerRevision({
      name: found.metadata?.name ?? '',
      namespace: agent.metadata.namespace,
    });
    const data = whole.data as { spec?: unknown } | undefined;
    if (!data?.spec) return `revision ${numberOf(found)} holds no spec`;
    return { revision: numberOf(found), spec: data.spec };
  }

  forget(key: string): void {
    this.recorded.delete(key);
    this.written.delete(key);
  }
}
