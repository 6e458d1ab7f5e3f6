import { randomUUID } from 'node:crypto';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { redact } from '@agentspec/sdk';
import { startOpsServer } from '@agentspec/service-kit';
import { describeError, isConflict } from './api-error.js';
import { runWorkers, type ReconcileResult } from './controller-runner.js';
import { Informer, type InformerOptions } from './informer.js';
import { reuseConnections } from './kube-connections.js';
import { LeaderElector } from './leader-election.js';
import { WorkQueue } from './work-queue.js';

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** host:port of /healthz and /readyz, of /metrics; "0" for none. */
  healthAddr: string;
  metricsAddr: string;
  /** Secrets that never appear in a logged error. */
  secrets?: (string | undefined)[];
  leaderElection?: { namespace: string; name: string; identity: string };
}

/** Something with a lifetime the manager owns: started when the manager starts, stopped when it stops. */
export interface Runnable {
  start(): void;
  stop(): void;
}

interface Controller {
  name: string;
  queue: WorkQueue;
  workers: number;
  reconcile: (key: string) => Promise<ReconcileResult>;
}

export interface RunningManager {
  /** Resolves when every informer has listed once. */
  synced: Promise<void>;
  healthUrl: string | undefined;
  metricsUrl: string | undefined;
  isLeader(): boolean;
  registry: Registry;
  /** Stops reconciling, releases the lease, stops the watches and servers. */
  stop(): Promise<void>;
  /** Resolves with an exit code when the manager stops on its own (lost the lease). */
  exited: Promise<number>;
}

/**
 * controller-runtime's manager: the informers (shared by name between controllers), the controllers with their work
 * queues, the ops server (/healthz, /readyz once every cache synced, /metrics), leader election (workers run only
 * while leading) and a graceful stop. Controllers are set up on it by one function each, beside their reconcilers.
 */
export class Manager {
  readonly registry = new Registry();
  private readonly informers = new Map<string, Informer<KubernetesObject>>();
  private readonly controllers: Controller[] = [];
  private readonly runnables: Runnable[] = [];

  constructor(readonly options: ManagerOptions) {
    collectDefaultMetrics({ register: this.registry });
    reuseConnections(options.kubeConfig);
  }

  get kubeConfig(): KubeConfig {
    return this.options.kubeConfig;
  }

  get logger(): Logger {
    return this.options.logger;
  }

  /** The informer registered under `name`, created on first use: two controllers watching one kind share it. */
  informer<T extends KubernetesObject>(
    name: string,
    options: Omit<InformerOptions, 'kubeConfig' | 'logger' | 'registry'>,
  ): Informer<T> {
    let informer = this.informers.get(name);
    if (!informer) {
      informer = new Informer<KubernetesObject>({
        ...options,
        kubeConfig: this.kubeConfig,
        logger: this.logger,
        registry: this.registry,
      });
      this.informers.set(name, informer);
    }
    return informer as unknown as Informer<T>;
  }

  /** A controller: its queue is drained by `workers` reconciles at a time, only while this manager leads. */
  addController(name: string, workers: number, reconcile: (key: string) => Promise<ReconcileResult>): WorkQueue {
    const queue = new WorkQueue({ name, registry: this.registry });
    this.controllers.push({ name, queue, workers, reconcile });
    return queue;
  }

  add(runnable: Runnable): void {
    this.runnables.push(runnable);
  }

  async start(): Promise<RunningManager> {
    let ready = false;
    const ops = await startOpsServers(this.options, this.registry, () => ready);
    const informers = [...this.informers.values()];
    for (const informer of informers) informer.start();
    const synced = Promise.all(informers.map((i) => i.waitForSync())).then(() => {
      ready = true;
      this.logger.info('caches synced');
    });
    for (const runnable of this.runnables) runnable.start();

    let workersDone: Promise<unknown> = Promise.resolve();
    const startWorkers = (): void => {
      void synced.then(() => {
        workersDone = Promise.all(this.controllers.map((c) => this.runController(c)));
      });
    };
    let exit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (exit = resolve));
    const election = this.options.leaderElection;
    const elector =
      election &&
      new LeaderElector({
        kubeConfig: this.kubeConfig,
        ...election,
        logger: this.logger,
        registry: this.registry,
        onStartedLeading: startWorkers,
        onStoppedLeading: () => {
          for (const c of this.controllers) c.queue.shutDown();
          exit(1);
        },
      });
    if (elector) elector.start();
    else startWorkers();

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        for (const c of this.controllers) c.queue.shutDown();
        await workersDone;
        await elector?.release();
        for (const runnable of this.runnables) runnable.stop();
        for (const informer of informers) informer.stop();
        await ops.close();
        exit(0);
      })());
    return {
      synced,
      healthUrl: ops.healthUrl,
      metricsUrl: ops.metricsUrl,
      isLeader: () => (elector ? elector.isLeader : true),
      registry: this.registry,
      stop,
      exited,
    };
  }

  private runController(controller: Controller): Promise<void> {
    const { name } = controller;
    return runWorkers({
      controller: name,
      queue: controller.queue,
      workers: controller.workers,
      registry: this.registry,
      reconcile: async (key) => {
        const log = this.logger.child({ controller: name, key, reconcileID: randomUUID() });
        const started = performance.now();
        const result = await controller.reconcile(key);
        log.debug({ durationMs: Math.round(performance.now() - started) }, 'reconciled');
        return result;
      },
      onError: (key, err, terminal) => {
        const detail = { controller: name, key, err: redact(describeError(err), this.options.secrets ?? []), terminal };
        // A conflict means our cache was a step behind: the key is retried with the fresh object, as usual.
        if (isConflict(err)) this.logger.debug(detail, 'conflict; requeued');
        else this.logger.error(detail, 'reconcile failed');
      },
    });
  }
}

/** /healthz and /readyz on healthAddr, /metrics on metricsAddr. */
async function startOpsServers(
  options: Pick<ManagerOptions, 'healthAddr' | 'metricsAddr'>,
  registry: Registry,
  ready: () => boolean,
): Promise<{ healthUrl: string | undefined; metricsUrl: string | undefined; close(): Promise<void> }> {
  const health = await startOpsServer({ addr: options.healthAddr, ready, notReady: 'caches not synced' });
  const metrics = await startOpsServer({ addr: options.metricsAddr, registry, health: false });
  return {
    healthUrl: health.url,
    metricsUrl: metrics.url,
    close: async () => {
      await Promise.all([health.close(), metrics.close()]);
    },
  };
}
