import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  KubeConfig,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Deployment,
  type V1Pod,
  type V1Secret,
  type V1Service,
} from '@kubernetes/client-node';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { pino, type Logger } from 'pino';
import { ControlPlaneClient, LABEL_AGENT_NAME, LABEL_INJECT, REGISTRATION_SECRET, redact } from '@agentspec/sdk';
import { AgentReconciler, FIELD_MANAGER, MANAGED_BY_SELECTOR, type AgentObject } from './agent-reconciler.js';
import type { OperatorConfig } from './config.js';
import { ControlPlaneStatus } from './control-plane-status.js';
import { runWorkers, type ReconcileResult } from './controller-runner.js';
import { describeError, isConflict } from './api-error.js';
import { EventRecorder } from './events.js';
import { combinedCache, Informer, keyOf, type Cache, type InformerEvent } from './informer.js';
import { LeaderElector } from './leader-election.js';
import { RegistrationSecretReconciler } from './registration-secret.js';
import { WorkQueue } from './work-queue.js';

export interface RunningOperator {
  /** Resolves when every informer has listed once. */
  synced: Promise<void>;
  healthUrl: string | undefined;
  metricsUrl: string | undefined;
  isLeader(): boolean;
  registry: Registry;
  /** Stops reconciling, releases the lease, stops the watches and servers. */
  stop(): Promise<void>;
  /** Resolves with an exit code when the operator stops on its own (lost the lease). */
  exited: Promise<number>;
}

export interface StartOperatorOptions {
  config: OperatorConfig;
  kubeConfig?: KubeConfig;
  logger?: Logger;
}

export function createOperatorLogger(level: string, secrets: (string | undefined)[]): Logger {
  return pino({
    level,
    base: { component: 'agentspec-operator' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ['adminKey', '*.adminKey', 'apiKey', '*.apiKey'], censor: '[REDACTED]' },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? redact(a, secrets) : a)) as Parameters<typeof method>,
        );
      },
    },
  });
}

function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

async function listen(addr: string, handler: Parameters<typeof createServer>[1]): Promise<Server | undefined> {
  if (addr === '0') return undefined;
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host || undefined, () => resolve());
  });
  return server;
}

const urlOf = (server: Server | undefined): string | undefined => {
  if (!server) return undefined;
  const address = server.address() as AddressInfo;
  const host =
    address.family === 'IPv6'
      ? `[${address.address === '::' ? '::1' : address.address}]`
      : address.address === '0.0.0.0'
        ? '127.0.0.1'
        : address.address;
  return `http://${host}:${address.port}`;
};

const ownerAgent = (object: KubernetesObject): string | undefined => {
  const owner = object.metadata?.ownerReferences?.find(
    (o) => o.kind === 'Agent' && o.apiVersion.startsWith('agentspec.io/'),
  );
  return owner && object.metadata?.namespace ? `${object.metadata.namespace}/${owner.name}` : undefined;
};

/** Starts the operator: informers, work queues, leader election, health and metrics servers. */
export async function startOperator(options: StartOperatorOptions): Promise<RunningOperator> {
  const { config } = options;
  const kubeConfig = options.kubeConfig ?? loadKubeConfig(config.kubeconfig);
  const logger = options.logger ?? createOperatorLogger(config.logLevel, [config.adminKey]);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const informerOptions = {
    kubeConfig,
    logger,
    registry,
    ...(config.namespace !== undefined ? { namespace: config.namespace } : {}),
    resyncMs: config.resyncSeconds * 1000,
  };
  const agents = new Informer<AgentObject>({
    ...informerOptions,
    resource: { apiVersion: 'agentspec.io/v1', kind: 'Agent', plural: 'agents' },
  });
  const owned = { ...informerOptions, labelSelector: MANAGED_BY_SELECTOR, resyncMs: 0 };
  const deployments = new Informer<V1Deployment>({
    ...owned,
    resource: { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  });
  const configMaps = new Informer<V1ConfigMap>({
    ...owned,
    resource: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  });
  const services = new Informer<V1Service>({
    ...owned,
    resource: { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  });
  const informers: Informer<KubernetesObject>[] = [
    agents,
    deployments,
    configMaps,
    services,
  ] as Informer<KubernetesObject>[];
  // Pods labelled agentspec.io/inject: which namespaces need the registration Secret, and whether the webhook
  // injected the registration into an Agent's pods.
  const podResource = { apiVersion: 'v1', kind: 'Pod', plural: 'pods' };
  const podInformers: Informer<V1Pod>[] =
    config.releaseNamespace || config.controlPlaneUrl
      ? [
          new Informer<V1Pod>({
            kubeConfig,
            logger,
            registry,
            resyncMs: 0,
            ...(config.namespace !== undefined ? { namespace: config.namespace } : {}),
            resource: podResource,
            labelSelector: `${LABEL_INJECT}=true`,
          }),
        ]
      : [];
  const injectedPods = combinedCache(podInformers);
  informers.push(...(podInformers as unknown as Informer<KubernetesObject>[]));

  const events = new EventRecorder({ kubeConfig, component: FIELD_MANAGER, logger });
  const agentQueue = new WorkQueue({ name: 'agent', registry });
  const queues: WorkQueue[] = [agentQueue];

  let controlPlane: ConstructorParameters<typeof AgentReconciler>[0]['controlPlane'];
  let cpStatus: ControlPlaneStatus | undefined;
  if (config.controlPlaneUrl) {
    const client = new ControlPlaneClient({
      baseUrl: config.controlPlaneUrl,
      ...(config.adminKey ? { adminKey: config.adminKey } : {}),
      timeoutMs: 5_000,
    });
    cpStatus = new ControlPlaneStatus({
      client,
      ...(config.namespace !== undefined ? { namespace: config.namespace } : {}),
      intervalMs: config.controlPlanePollSeconds * 1000,
      logger,
      onChange: (key) => agents.get(key) && agentQueue.add(key),
      onReachabilityChange: () => agents.list().forEach((a) => agentQueue.add(keyOf(a))),
      registry,
    });
    controlPlane = { client, status: cpStatus, deregisterTimeoutMs: config.deregisterTimeoutSeconds * 1000 };
  }
  const agentReconciler = new AgentReconciler({
    kubeConfig,
    caches: { agents, deployments, configMaps, services, injectedPods },
    sidecarImage: config.sidecarImage,
    logger,
    events,
    registry,
    ...(controlPlane ? { controlPlane } : {}),
  });

  const enqueueAgent = (_event: InformerEvent, object: KubernetesObject): void => agentQueue.add(keyOf(object));
  agents.on(enqueueAgent);
  const enqueueOwner = (event: InformerEvent, object: KubernetesObject): void => {
    const key = event === 'resync' ? undefined : ownerAgent(object);
    if (key) agentQueue.add(key);
  };
  deployments.on(enqueueOwner);
  configMaps.on(enqueueOwner);
  services.on(enqueueOwner);
  // A new pod of an Agent: was the registration injected into it?
  for (const informer of podInformers) {
    informer.on((event, pod) => {
      const name = pod.metadata?.labels?.[LABEL_AGENT_NAME];
      if (event === 'add' && name && pod.metadata?.namespace) agentQueue.add(`${pod.metadata.namespace}/${name}`);
    });
  }

  // Registration Secret copies: only when we know where the chart's Secret lives.
  let secretReconciler: RegistrationSecretReconciler | undefined;
  let secretQueue: WorkQueue | undefined;
  if (config.releaseNamespace) {
    const queue = new WorkQueue({ name: 'registration-secret', registry });
    secretQueue = queue;
    queues.push(queue);
    const scoped = { kubeConfig, logger, registry, resyncMs: 0 };
    const secrets: Informer<V1Secret>[] = [];
    const secretResource = { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' };
    const fieldSelector = `metadata.name=${REGISTRATION_SECRET}`;
    if (config.namespace === undefined) {
      secrets.push(new Informer<V1Secret>({ ...scoped, resource: secretResource, fieldSelector }));
    } else {
      for (const namespace of new Set([config.namespace, config.releaseNamespace])) {
        secrets.push(new Informer<V1Secret>({ ...scoped, namespace, resource: secretResource, fieldSelector }));
      }
    }
    const secretCache: Cache<V1Secret> = combinedCache(secrets);
    secretReconciler = new RegistrationSecretReconciler({
      kubeConfig,
      sourceNamespace: config.releaseNamespace,
      caches: { agents, injectedPods, secrets: secretCache },
      fieldManager: FIELD_MANAGER,
      logger,
    });
    const reconcilerRef = secretReconciler;
    const byNamespace = (event: InformerEvent, object: KubernetesObject): void => {
      if (event === 'update' && object.kind === 'Pod') return; // pod status churn: namespaces only change on add/delete
      const namespace = object.metadata?.namespace;
      if (!namespace) return;
      if (namespace === config.releaseNamespace && object.metadata?.name === REGISTRATION_SECRET) {
        for (const ns of reconcilerRef.namespaces()) queue.add(ns);
      } else {
        queue.add(namespace);
      }
    };
    agents.on(byNamespace);
    for (const informer of podInformers) informer.on(byNamespace);
    for (const informer of secrets) {
      informer.on(byNamespace);
      informers.push(informer as unknown as Informer<KubernetesObject>);
    }
  }

  // Health and metrics.
  let ready = false;
  const healthServer = await listen(config.healthAddr, (req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } else if (req.url === '/readyz') {
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ok' : 'caches not synced');
    } else {
      res.writeHead(404).end();
    }
  });
  const metricsServer = await listen(config.metricsAddr, (req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    registry
      .metrics()
      .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text))
      .catch(() => res.writeHead(500).end());
  });

  for (const informer of informers) informer.start();
  const synced = Promise.all(informers.map((i) => i.waitForSync())).then(() => {
    ready = true;
    logger.info({ namespace: config.namespace ?? '(all)' }, 'caches synced');
  });
  cpStatus?.start();

  const reconcileWith =
    (controller: string, reconcile: (key: string) => Promise<ReconcileResult>) =>
    async (key: string): Promise<ReconcileResult> => {
      const log = logger.child({ controller, key, reconcileID: randomUUID() });
      const started = performance.now();
      const result = await reconcile(key);
      log.debug({ durationMs: Math.round(performance.now() - started) }, 'reconciled');
      return result;
    };
  const onError = (controller: string) => (key: string, err: unknown, terminal: boolean) => {
    const detail = { controller, key, err: redact(describeError(err), [config.adminKey]), terminal };
    // A conflict means our cache was a step behind: the key is retried with the fresh object, as usual.
    if (isConflict(err)) logger.debug(detail, 'conflict; requeued');
    else logger.error(detail, 'reconcile failed');
  };

  let workersDone: Promise<unknown> = Promise.resolve();
  const startWorkers = (): void => {
    void synced.then(() => {
      const running = [
        runWorkers({
          controller: 'agent',
          queue: agentQueue,
          workers: config.workers,
          reconcile: reconcileWith('agent', (key) => agentReconciler.reconcile(key)),
          registry,
          onError: onError('agent'),
        }),
      ];
      if (secretReconciler && secretQueue) {
        const reconciler = secretReconciler;
        running.push(
          runWorkers({
            controller: 'registration-secret',
            queue: secretQueue,
            workers: 1,
            reconcile: reconcileWith('registration-secret', (ns) => reconciler.reconcile(ns)),
            registry,
            onError: onError('registration-secret'),
          }),
        );
      }
      workersDone = Promise.all(running);
    });
  };

  let exit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  let elector: LeaderElector | undefined;
  if (config.leaderElect) {
    elector = new LeaderElector({
      kubeConfig,
      namespace: config.leaderElectionNamespace,
      name: config.leaderElectionId,
      identity: config.identity,
      logger,
      registry,
      onStartedLeading: startWorkers,
      onStoppedLeading: () => {
        for (const queue of queues) queue.shutDown();
        exit(1);
      },
    });
    elector.start();
  } else {
    startWorkers();
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const queue of queues) queue.shutDown();
      await workersDone;
      await elector?.release();
      cpStatus?.stop();
      for (const informer of informers) informer.stop();
      await Promise.all(
        [healthServer, metricsServer].map(
          (server) => server && new Promise<void>((resolve) => server.close(() => resolve())),
        ),
      );
      exit(0);
    })());

  return {
    synced,
    healthUrl: urlOf(healthServer),
    metricsUrl: urlOf(metricsServer),
    isLeader: () => (elector ? elector.isLeader : true),
    registry,
    stop,
    exited,
  };
}
