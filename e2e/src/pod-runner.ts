import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Container, type V1EnvVar, type V1Pod } from '@kubernetes/client-node';
import { freePort } from './free-port.js';
import { ManagedProcess } from './managed-process.js';

/** How one container of a pod is run on this machine: the command that stands in for its image. */
export type ContainerCommand = (container: V1Container, pod: V1Pod) => { command: string; args: string[] } | undefined;

export interface PodRunnerOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Pods to run (a label selector). */
  labelSelector: string;
  commandFor: ContainerCommand;
  /** Where logs and volumes go. */
  dir?: string;
  /** Mark a pod Ready (as a kubelet would) when this answers true; default: after its processes started. */
  readiness?: (pod: RunningPod) => Promise<boolean>;
  pollMs?: number;
  log?: (message: string) => void;
}

export interface RunningPod {
  name: string;
  uid: string;
  processes: Map<string, ManagedProcess>;
  /** Container port → the local port it got. */
  ports: Map<number, number>;
  /** Environment each container was started with. */
  env: Map<string, NodeJS.ProcessEnv>;
  ready: boolean;
}

const podKey = (pod: V1Pod): string => pod.metadata?.uid ?? '';

/**
 * Plays the kubelet for the test cluster (no kubelet runs there): each pod matching the selector is "run" by
 * starting its containers as local processes with the environment of the stored Pod spec — values, and
 * `secretKeyRef`, `configMapKeyRef` and `fieldRef` resolved through the API, as a kubelet resolves them. What a
 * kubelet gives each pod and a single host cannot is translated: every container port becomes a free local port
 * (and `localhost:<containerPort>` in values follows it), and ConfigMap volumes are written to a directory
 * (paths under their mount paths follow it). Pods that disappear or are being deleted are stopped.
 */
export class PodRunner {
  readonly pods = new Map<string, RunningPod>();
  private readonly core: CoreV1Api;
  private readonly dir: string;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private busy = Promise.resolve();

  constructor(private readonly options: PodRunnerOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.dir = options.dir ?? mkdtempSync(join(tmpdir(), 'agentspec-pods-'));
  }

  start(): this {
    const tick = (): void => {
      this.busy = this.sync()
        .catch((err: unknown) => this.options.log?.(`pod runner: ${(err as Error).message}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.pollMs ?? 500);
        });
    };
    tick();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.busy;
    await Promise.all([...this.pods.values()].map((p) => this.stopPod(p)));
    this.pods.clear();
  }

  private async stopPod(pod: RunningPod): Promise<void> {
    await Promise.all([...pod.processes.values()].map((p) => p.stop()));
  }

  private async sync(): Promise<void> {
    const list = await this.core.listNamespacedPod({
      namespace: this.options.namespace,
      labelSelector: this.options.labelSelector,
    });
    const live = new Set<string>();
    for (const pod of list.items) {
      if (pod.metadata?.deletionTimestamp) continue;
      live.add(podKey(pod));
      if (!this.pods.has(podKey(pod))) await this.startPod(pod);
    }
    for (const [key, pod] of this.pods) {
      if (!live.has(key)) {
        this.options.log?.(`pod ${pod.name} is gone: stopping its containers`);
        this.pods.delete(key);
        await this.stopPod(pod);
      }
    }
    for (const pod of this.pods.values()) {
      if (pod.ready) continue;
      const ready = this.options.readiness ? await this.options.readiness(pod).catch(() => false) : true;
      if (ready) await this.markReady(pod);
    }
  }

  private async markReady(pod: RunningPod): Promise<void> {
    await this.core.patchNamespacedPodStatus({
      name: pod.name,
      namespace: this.options.namespace,
      body: [
        {
          op: 'add',
          path: '/status',
          value: {
            phase: 'Running',
            podIP: '127.0.0.1',
            conditions: [
              { type: 'Ready', status: 'True', lastTransitionTime: new Date() },
              { type: 'ContainersReady', status: 'True', lastTransitionTime: new Date() },
            ],
          },
        },
      ],
    });
    pod.ready = true;
    this.options.log?.(`pod ${pod.name} is ready`);
  }

  private async resolveEnv(
    pod: V1Pod,
    container: V1Container,
    mounts: Map<string, string>,
    ports: Map<number, number>,
  ) {
    const env: NodeJS.ProcessEnv = {};
    const secrets = new Map<string, Record<string, string> | undefined>();
    const secret = async (name: string) => {
      if (!secrets.has(name)) {
        const found = await this.core
          .readNamespacedSecret({ name, namespace: this.options.namespace })
          .catch(() => undefined);
        secrets.set(
          name,
          found
            ? Object.fromEntries(
                Object.entries(found.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
              )
            : undefined,
        );
      }
      return secrets.get(name);
    };
    const field = (path: string): string | undefined =>
      ({
        'metadata.name': pod.metadata?.name,
        'metadata.namespace': pod.metadata?.namespace,
        'metadata.uid': pod.metadata?.uid,
        'status.podIP': '127.0.0.1',
        'spec.nodeName': 'localhost',
      })[path];
    for (const from of container.envFrom ?? []) {
      if (from.secretRef?.name) Object.assign(env, (await secret(from.secretRef.name)) ?? {});
    }
    for (const variable of container.env ?? ([] as V1EnvVar[])) {
      let value: string | undefined = variable.value;
      const source = variable.valueFrom;
      if (source?.secretKeyRef) value = (await secret(source.secretKeyRef.name ?? ''))?.[source.secretKeyRef.key];
      else if (source?.fieldRef) value = field(source.fieldRef.fieldPath);
      else if (source?.configMapKeyRef) {
        const cm = await this.core
          .readNamespacedConfigMap({ name: source.configMapKeyRef.name ?? '', namespace: this.options.namespace })
          .catch(() => undefined);
        value = cm?.data?.[source.configMapKeyRef.key];
      }
      if (value === undefined) continue; // optional source missing: the variable is unset, as in a pod
      // $(VAR) references to earlier variables, as the kubelet expands them.
      value = value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string) => env[name] ?? m);
      for (const [containerPort, localPort] of ports) {
        value = value.replace(
          new RegExp(`(localhost|127\\.0\\.0\\.1):${containerPort}\\b`, 'g'),
          `127.0.0.1:${localPort}`,
        );
      }
      for (const [mountPath, local] of mounts) {
        if (value === mountPath || value.startsWith(`${mountPath}/`)) value = local + value.slice(mountPath.length);
      }
      env[variable.name] = value;
    }
    return env;
  }

  private async startPod(pod: V1Pod): Promise<void> {
    const name = pod.metadata?.name ?? 'pod';
    const podDir = join(this.dir, name);
    mkdirSync(podDir, { recursive: true });
    // Volumes: ConfigMaps become directories.
    const volumes = new Map<string, string>();
    for (const volume of pod.spec?.volumes ?? []) {
      if (!volume.configMap?.name) continue;
      const cm = await this.core.readNamespacedConfigMap({
        name: volume.configMap.name,
        namespace: this.options.namespace,
      });
      const local = join(podDir, 'volumes', volume.name);
      mkdirSync(local, { recursive: true });
      for (const [file, content] of Object.entries(cm.data ?? {})) writeFileSync(join(local, file), content);
      volumes.set(volume.name, local);
    }
    // Ports: the pod's network namespace, on one host.
    const ports = new Map<number, number>();
    for (const container of pod.spec?.containers ?? []) {
      for (const port of container.ports ?? []) ports.set(port.containerPort, await freePort());
    }
    const running: RunningPod = { name, uid: podKey(pod), processes: new Map(), ports, env: new Map(), ready: false };
    this.pods.set(podKey(pod), running);
    for (const container of pod.spec?.containers ?? []) {
      const run = this.options.commandFor(container, pod);
      if (!run) continue;
      const mounts = new Map(
        (container.volumeMounts ?? [])
          .filter((m) => volumes.has(m.name))
          .map((m) => [m.mountPath, volumes.get(m.name) as string]),
      );
      const env = await this.resolveEnv(pod, container, mounts, ports);
      // The container's own port, for programs that read PORT.
      const own = container.ports?.[0]?.containerPort;
      if (own !== undefined && env['PORT'] === undefined) env['PORT'] = String(ports.get(own));
      for (const key of ['PROXY_PORT', 'CONTROL_PLANE_PORT']) {
        const value = env[key];
        if (value && ports.has(Number(value))) env[key] = String(ports.get(Number(value)));
      }
      running.env.set(container.name, env);
      running.processes.set(
        container.name,
        new ManagedProcess({
          name: `${name}/${container.name}`,
          command: run.command,
          args: run.args,
          logPath: join(podDir, `${container.name}.log`),
          env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
        }),
      );
    }
    this.options.log?.(`started pod ${name} (${[...running.processes.keys()].join(', ')})`);
  }
}
