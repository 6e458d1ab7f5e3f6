import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { installChart, USER_FLAGS } from './chart.js';
import { kubectl } from './crds.js';
import { waitFor } from './wait-for.js';

export interface PodPlatformOptions {
  kubeconfigPath: string;
  /** Release namespace. */
  namespace: string;
  /** Chart values that make the chart use the images built for the test node. */
  imageValues: string[];
  log?: (message: string) => void;
}

/** What a scenario uses of the running product, whether its pods run on a node or as local processes. */
export interface RunningPlatform {
  namespace: string;
  adminKey: string;
  jwtSecret: string;
  /** The control plane's Service, reached from this host through kube-proxy. */
  controlPlane: { url: string };
  dir: string;
  /** The sidecar's diagnostics base URL of an agent pod (its pod IP, port 4001). */
  sidecarUrl(namespace: string, pod: string): Promise<string>;
  /** The sidecar's proxy in front of the agent (its pod IP, port 4000): what clients of the agent call. */
  proxyUrl(namespace: string, pod: string): Promise<string>;
  /**
   * Writes every container log of the given namespaces' pods (kubectl logs) under `dir`; returns every file written
   * so far (logs of pods collected before they were deleted included).
   */
  collectLogs(namespaces: string[]): Promise<string[]>;
  stop(): Promise<void>;
}

/** Values a test sets besides the user's flags: quick liveness so instances go offline and away within a test. */
/** The claim the chart's PostgreSQL StatefulSet makes for its one pod (volumeClaimTemplates `data`). */
const POSTGRES_CLAIM = 'data-agentspec-postgresql-0';

export const FAST_LIVENESS_VALUES = [
  'controlPlane.heartbeatIntervalSeconds=2',
  'controlPlane.minHeartbeatIntervalSeconds=1',
  'controlPlane.reaperIntervalSeconds=1',
  'controlPlane.instanceRetention=20s',
];

/**
 * Waits until every Deployment and StatefulSet of the release in `namespace` is ready (at least the four the chart
 * makes); a timeout names each pod's state.
 */
export async function waitForRelease(kc: KubeConfig, namespace: string, timeoutMs: number): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(
    'every workload of the release to be ready',
    async () => {
      const [deployments, statefulSets] = await Promise.all([
        apps.listNamespacedDeployment({ namespace }),
        apps.listNamespacedStatefulSet({ namespace }),
      ]);
      const workloads = [...deployments.items, ...statefulSets.items];
      return workloads.length >= 4 && workloads.every((w) => (w.status?.readyReplicas ?? 0) >= (w.spec?.replicas ?? 1));
    },
    { timeoutMs, intervalMs: 1_000 },
  ).catch(async (err: Error) => {
    const pods = await core.listNamespacedPod({ namespace });
    const states = pods.items.map((p) => `${p.metadata?.name}: ${describePod(p)}`).join('; ');
    // Why a pod waits (FailedScheduling, FailedMount, ...): the Warning events of the namespace, newest last.
    const events = (await core.listNamespacedEvent({ namespace })).items
      .filter((e) => e.type === 'Warning')
      .slice(-10)
      .map((e) => `${e.involvedObject.kind}/${e.involvedObject.name} ${e.reason}: ${e.message}`)
      .join('; ');
    throw new Error(`${err.message}; pods: ${states}; warnings: ${events || 'none'}`);
  });
}

/**
 * `helm upgrade --install` with the user's flags on a cluster with a node: operator, webhook, control plane and
 * the bundled PostgreSQL StatefulSet run as pods of the images built locally; the PostgreSQL claim is bound to a
 * host directory of ours (no provisioner runs here). Waits until every workload of the release is ready.
 */
export async function startPodPlatform(options: PodPlatformOptions): Promise<RunningPlatform> {
  const log = options.log ?? (() => undefined);
  const ns = options.namespace;
  const kc = new KubeConfig();
  kc.loadFromFile(options.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const dir = mkdtempSync(join(tmpdir(), 'agentspec-platform-'));
  // The claim the chart's StatefulSet makes, bound to a hostPath volume owned by the image's postgres user.
  const volumeDir = join(dir, 'postgresql-data');
  mkdirSync(volumeDir, { mode: 0o700 });
  chownSync(volumeDir, 999, 999);
  const volumeName = `${ns}-postgresql`;
  await core.createPersistentVolume({
    body: {
      metadata: { name: volumeName },
      spec: {
        capacity: { storage: '8Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        claimRef: { namespace: ns, name: POSTGRES_CLAIM },
        hostPath: { path: volumeDir, type: 'Directory' },
      },
    },
  });
  // The claim too, bound to that volume and waited for before the install: a claim the StatefulSet made itself was
  // bound by kube-controller-manager in its own time, and a pod scheduled before that waited in the scheduler's
  // backoff (once past the release's deadline on a loaded machine).
  await core.createNamespace({ body: { metadata: { name: ns } } }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
  await core.createNamespacedPersistentVolumeClaim({
    namespace: ns,
    body: {
      metadata: { name: POSTGRES_CLAIM },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: '',
        volumeName,
        resources: { requests: { storage: '1Gi' } },
      },
    },
  });
  await waitFor(
    'the PostgreSQL claim to be bound',
    async () =>
      (await core.readNamespacedPersistentVolumeClaim({ name: POSTGRES_CLAIM, namespace: ns })).status?.phase ===
      'Bound',
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const logFiles = new Set<string>();
  const stop = async (): Promise<void> => {
    await core.deletePersistentVolume({ name: volumeName }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const sets = [...USER_FLAGS, ...options.imageValues, ...FAST_LIVENESS_VALUES];
    log(`helm upgrade --install agentspec charts/agentspec ${USER_FLAGS.map((f) => `--set ${f}`).join(' ')}`);
    await installChart(options.kubeconfigPath, ns, sets);
    await waitForRelease(kc, ns, 240_000);
    const secret = await core.readNamespacedSecret({ name: 'agentspec-control-plane', namespace: ns });
    const key = (k: string) => Buffer.from(secret.data?.[k] ?? '', 'base64').toString('utf8');
    const service = await core.readNamespacedService({ name: 'agentspec-control-plane', namespace: ns });
    const url = `http://${service.spec?.clusterIP}:${service.spec?.ports?.[0]?.port ?? 8080}`;
    log(`control plane at ${url} (its Service)`);
    // The kubelet reports the pod's IP a moment after its containers start (its status updates are batched).
    const podIp = (namespace: string, pod: string) =>
      waitFor(`pod ${pod}'s IP`, async () => (await core.readNamespacedPod({ name: pod, namespace })).status?.podIP, {
        timeoutMs: 30_000,
      });
    return {
      namespace: ns,
      adminKey: key('apiKey'),
      jwtSecret: key('jwtSecret'),
      controlPlane: { url },
      dir,
      sidecarUrl: async (namespace, pod) => `http://${await podIp(namespace, pod)}:4001`,
      proxyUrl: async (namespace, pod) => `http://${await podIp(namespace, pod)}:4000`,
      async collectLogs(namespaces) {
        for (const namespace of namespaces) {
          const pods = await core.listNamespacedPod({ namespace }).catch(() => ({ items: [] as V1Pod[] }));
          for (const pod of pods.items) {
            for (const container of pod.spec?.containers ?? []) {
              const name = `${pod.metadata?.name}`;
              const text = await kubectl(options.kubeconfigPath, [
                'logs',
                '-n',
                namespace,
                name,
                '-c',
                container.name,
              ]).catch((err: Error) => `(no log: ${err.message.split('\n')[0]})`);
              const file = join(dir, 'logs', namespace, `${name}.${container.name}.log`);
              mkdirSync(join(dir, 'logs', namespace), { recursive: true });
              writeFileSync(file, text);
              logFiles.add(file);
            }
          }
        }
        return [...logFiles];
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One line about a pod: phase and each container's waiting/terminated reason. */
export function describePod(pod: V1Pod): string {
  const containers = (pod.status?.containerStatuses ?? []).map((c) => {
    const reason = c.state?.waiting?.reason ?? c.state?.terminated?.reason ?? (c.ready ? 'ready' : 'running');
    return `${c.name}=${reason}${c.restartCount ? ` (${c.restartCount} restarts)` : ''}`;
  });
  return `${pod.status?.phase ?? 'unknown'} [${containers.join(', ')}]`;
}
