import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError } from './api-error.js';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid: string; resourceVersion?: string };
}

export interface EventRecorderOptions {
  kubeConfig: KubeConfig;
  component: string;
  logger: Logger;
  /** The same event for the same object is not repeated within this window. Default 10 min. */
  dedupeMs?: number;
}

/**
 * Kubernetes Events on an object (what `kubectl describe` shows). Best effort: a failure to record is logged,
 * never fails a reconcile, and the same reason and message for an object are recorded once per window.
 */
export class EventRecorder {
  private readonly core: CoreV1Api;
  private readonly recent = new Map<string, number>();

  constructor(private readonly options: EventRecorderOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
  }

  normal(target: EventTarget, reason: string, message: string): void {
    this.record(target, 'Normal', reason, message);
  }

  warning(target: EventTarget, reason: string, message: string): void {
    this.record(target, 'Warning', reason, message);
  }

  private record(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = Date.now();
    const key = `${target.metadata.uid}|${type}|${reason}|${message}`;
    const last = this.recent.get(key);
    const window = this.options.dedupeMs ?? 10 * 60_000;
    if (last !== undefined && now - last < window) return;
    this.recent.set(key, now);
    if (this.recent.size > 10_000) {
      for (const [k, at] of this.recent) if (now - at >= window) this.recent.delete(k);
    }
    const time = new Date(now);
    const { namespace, name, uid, resourceVersion } = target.metadata;
    this.core
      .createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${name}.`, namespace },
          involvedObject: { apiVersion: target.apiVersion, kind: target.kind, name, namespace, uid, resourceVersion },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: this.options.component },
          reportingComponent: this.options.component,
          reportingInstance: this.options.component,
          firstTimestamp: time,
          lastTimestamp: time,
          count: 1,
        },
      })
      .catch((err: unknown) => {
        this.options.logger.warn(
          { err: describeError(err), reason, object: `${namespace}/${name}` },
          'event not recorded',
        );
      });
  }
}
