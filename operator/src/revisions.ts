import { createHash } from 'node:crypto';
import type { AppsV1Api, V1ControllerRevision } from '@kubernetes/client-node';
import { LABEL_AGENT_NAME, REVISION_HISTORY_LIMIT } from '@agentspec/sdk';

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

/**
 * The spec revisions of each Agent, as ControllerRevisions (the apps/v1 object StatefulSets and DaemonSets keep their
 * history in): one per distinct spec, named `<agent>-<hash>`, labelled with the Agent's name, owned by the Agent (so
 * they go with it), numbered in the order the specs were applied. Applying a spec seen before renumbers its revision
 * to the newest, as a Deployment does with its ReplicaSets. The newest REVISION_HISTORY_LIMIT are kept.
 */
export class AgentRevisions {
  /** The spec hash last recorded per Agent: a reconcile of an unchanged spec makes no request. */
  private readonly recorded = new Map<string, string>();

  constructor(
    private readonly apps: AppsV1Api,
    private readonly onWrite: (verb: string) => void = () => undefined,
  ) {}

  /** The Agent's revisions, oldest first. */
  async list(namespace: string, name: string): Promise<V1ControllerRevision[]> {
    const { items } = await this.apps.listNamespacedControllerRevision({
      namespace,
      labelSelector: `${LABEL_AGENT_NAME}=${name}`,
    });
    return items
      .filter((r) => r.metadata?.ownerReferences?.some((o) => o.kind === 'Agent' && o.name === name))
      .sort((a, b) => numberOf(a) - numberOf(b));
  }

  /** Records the spec the Agent now has as its newest revision (unless it already is). */
  async record(agent: RevisionSubject): Promise<void> {
    const { namespace, name } = agent.metadata;
    const key = `${namespace}/${name}`;
    const hash = specHash(agent.spec);
    if (this.recorded.get(key) === hash) return;
    const revisions = await this.list(namespace, name);
    const newest = revisions.at(-1);
    const current = revisionName(agent, agent.spec);
    const next = (newest ? numberOf(newest) : 0) + 1;
    const existing = revisions.find((r) => r.metadata?.name === current);
    if (!existing) {
      this.onWrite('create');
      await this.apps.createNamespacedControllerRevision({
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
      });
      revisions.push({ metadata: { name: current }, revision: next });
    } else if (existing !== newest) {
      this.onWrite('update');
      await this.apps.replaceNamespacedControllerRevision({
        name: current,
        namespace,
        body: { ...existing, revision: next },
      });
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
    const revisions = await this.list(agent.metadata.namespace, agent.metadata.name);
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
    const data = found.data as { spec?: unknown } | undefined;
    if (!data?.spec) return `revision ${numberOf(found)} holds no spec`;
    return { revision: numberOf(found), spec: data.spec };
  }

  forget(key: string): void {
    this.recorded.delete(key);
  }
}
