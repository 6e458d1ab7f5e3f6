import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AdmissionregistrationV1Api, CoreV1Api, KubeConfig, type V1Container } from '@kubernetes/client-node';
import { startControlPlaneProcess, type ControlPlaneProcess } from './control-plane-process.js';
import { installChart, USER_FLAGS } from './chart.js';
import { startChartOperator, startChartWebhook, type ChartComponent } from './components.js';
import { PodRunner } from './pod-runner.js';
import { PYTHON_AGENT_APP, pythonSdkVenv } from './python.js';
import type { RunningPlatform } from './pod-platform.js';
import { waitFor } from './wait-for.js';

const root = resolve(import.meta.dirname, '..', '..');

export interface PlatformOptions {
  /** Admin kubeconfig of the cluster. */
  kubeconfigPath: string;
  /** Release namespace of the chart. */
  namespace: string;
  /** PostgreSQL URL for the control plane. */
  databaseUrl: string;
  /** Namespace whose agent pods the harness runs. */
  agentsNamespace: string;
  /** Seconds between the operator's full reads of the control plane (it follows the event stream between them). */
  resyncSeconds?: number;
  log?: (message: string) => void;
}

export interface Platform extends RunningPlatform {
  /** The release namespace. */
  namespace: string;
  controlPlane: ControlPlaneProcess;
  operator: ChartComponent;
  webhook: ChartComponent;
  pods: PodRunner;
  adminKey: string;
  jwtSecret: string;
  /** Logs of the operator, the webhook and every pod's containers (the control plane's: controlPlane.process). */
  dir: string;
  stop(): Promise<void>;
}

/** The agent program standing in for an image, and the built sidecar for the agentspec-sidecar container. */
export function localCommandFor(container: V1Container): { command: string; args: string[] } | undefined {
  if (container.name === 'agentspec-sidecar') {
    return { command: process.execPath, args: [join(root, 'sidecar', 'dist', 'bin', 'sidecar.js')] };
  }
  if (container.image?.includes('fitness-coach')) {
    return { command: process.execPath, args: [join(root, 'examples', 'fitness-coach', 'agent.mjs')] };
  }
  if (container.image?.includes('python-agent')) {
    return { command: pythonSdkVenv().python, args: [PYTHON_AGENT_APP] };
  }
  return undefined;
}

/**
 * The whole product on a test cluster, through its public interfaces: the chart installed with the user's flags;
 * the control plane on PostgreSQL with the keys from the chart's Secret; the operator and the webhook as local
 * processes with kubeconfigs impersonating the chart's ServiceAccounts (the webhook configuration pointed at the
 * local webhook); and the pod runner playing the kubelet for agent pods.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const log = options.log ?? (() => undefined);
  const { namespace: ns, kubeconfigPath } = options;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const dir = mkdtempSync(join(tmpdir(), 'agentspec-platform-'));
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const thing of started.reverse()) await thing.stop().catch(() => undefined);
  };
  try {
    log('helm upgrade --install agentspec charts/agentspec --set controlPlane.enabled=true --set webhook.enabled=true');
    await installChart(kubeconfigPath, ns, USER_FLAGS);
    const secret = await core.readNamespacedSecret({ name: 'agentspec-control-plane', namespace: ns });
    const key = (k: string) => Buffer.from(secret.data?.[k] ?? '', 'base64').toString('utf8');
    const adminKey = key('apiKey');

    const controlPlane = await startControlPlaneProcess({
      databaseUrl: options.databaseUrl,
      adminKey,
      jwtSecret: key('jwtSecret'),
      // Short intervals so liveness moves within a test: offline after 6 s of silence, deleted 20 s later.
      env: {
        AGENTSPEC_MIN_HEARTBEAT_INTERVAL_SECONDS: '1',
        AGENTSPEC_HEARTBEAT_INTERVAL_SECONDS: '2',
        AGENTSPEC_REAPER_INTERVAL_SECONDS: '1',
        AGENTSPEC_INSTANCE_RETENTION: '20s',
      },
    });
    started.push(controlPlane);
    log(`control plane at ${controlPlane.url}`);

    const webhook = await startChartWebhook({
      kubeconfigPath,
      namespace: ns,
      dir,
      // Pods run on this machine here, so the URL they get is the local control plane.
      controlPlaneUrl: controlPlane.url,
      env: { CERT_EXTRA_HOSTS: '127.0.0.1' },
    });
    started.push(webhook);
    const webhookPort = webhook.port;
    // The chart points the configuration at the webhook's Service; here the apiserver calls the local process.
    const admission = kc.makeApiClient(AdmissionregistrationV1Api);
    await waitFor('the rotator to fill caBundle', async () => {
      const configuration = await admission.readMutatingWebhookConfiguration({ name: 'agentspec-webhook' });
      const hook = configuration.webhooks?.[0];
      if (!hook?.clientConfig.caBundle) return false;
      hook.clientConfig = { url: `https://127.0.0.1:${webhookPort}/mutate`, caBundle: hook.clientConfig.caBundle };
      await admission.replaceMutatingWebhookConfiguration({ name: 'agentspec-webhook', body: configuration });
      return true;
    });
    log(`webhook at https://127.0.0.1:${webhookPort}/mutate`);

    const operator = await startChartOperator({
      kubeconfigPath,
      namespace: ns,
      dir,
      args: [
        `--control-plane-url=${controlPlane.url}`,
        `--control-plane-resync-seconds=${options.resyncSeconds ?? 300}`,
        '--deregister-timeout-seconds=30',
      ],
      env: { AGENTSPEC_ADMIN_KEY: adminKey },
    });
    started.push(operator);
    log('operator ready');

    const pods = new PodRunner({
      kubeConfig: kc,
      namespace: options.agentsNamespace,
      labelSelector: 'agentspec.io/inject=true',
      commandFor: localCommandFor,
      dir: join(dir, 'pods'),
      // As a kubelet: the pod is ready when the sidecar's readiness probe (/agentspec/health/ready) answers 200.
      readiness: async (pod) => {
        const port = pod.ports.get(4001);
        return port !== undefined && (await fetch(`http://127.0.0.1:${port}/agentspec/health/ready`)).ok;
      },
      log,
    }).start();
    started.push(pods);
    return {
      namespace: ns,
      controlPlane,
      operator,
      webhook,
      pods,
      adminKey,
      jwtSecret: key('jwtSecret'),
      dir,
      async sidecarUrl(_namespace, pod) {
        const running = [...pods.pods.values()].find((p) => p.name === pod);
        return `http://127.0.0.1:${running?.ports.get(4001)}`;
      },
      async proxyUrl(_namespace, pod) {
        const running = [...pods.pods.values()].find((p) => p.name === pod);
        return `http://127.0.0.1:${running?.ports.get(4000)}`;
      },
      async collectLogs() {
        // The operator's, the webhook's and every pod container's logs are under dir; the control plane's beside it.
        return [dir, controlPlane.process.options.logPath];
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
