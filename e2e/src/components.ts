import { join, resolve } from 'node:path';
import { freePort } from './free-port.js';
import { writeImpersonatingKubeconfig } from './kubeconfig.js';
import { ManagedProcess } from './managed-process.js';

const root = resolve(import.meta.dirname, '..', '..');

export interface ChartComponentOptions {
  /** Admin kubeconfig; the component gets a copy impersonating the chart's ServiceAccount. */
  kubeconfigPath: string;
  /** The release namespace (the ServiceAccounts', the Secret's, the Lease's). */
  namespace: string;
  /** Where its kubeconfig and log go. */
  dir: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

export interface ChartComponent {
  process: ManagedProcess;
  /** The webhook's HTTPS port (webhook only). */
  port: number;
  stop(): Promise<void>;
}

async function start(
  component: 'operator' | 'webhook',
  options: ChartComponentOptions,
  env: (ports: { port: number; health: number }) => NodeJS.ProcessEnv,
): Promise<ChartComponent> {
  const serviceAccount = `agentspec-${component}`;
  const kubeconfig = writeImpersonatingKubeconfig(
    options.kubeconfigPath,
    `system:serviceaccount:${options.namespace}:${serviceAccount}`,
    join(options.dir, `${serviceAccount}.kubeconfig`),
  );
  const ports = { port: await freePort(), health: await freePort() };
  const process_ = new ManagedProcess({
    name: `${serviceAccount} (as its ServiceAccount)`,
    command: process.execPath,
    args: [
      join(root, component, 'dist', 'bin', `${component}.js`),
      `--kubeconfig=${kubeconfig}`,
      ...(options.args ?? []),
    ],
    logPath: join(options.dir, `${component}.log`),
    env: { PATH: process.env['PATH'] ?? '', POD_NAMESPACE: options.namespace, ...env(ports), ...options.env },
  });
  try {
    await process_.waitUntil('ready', async () => (await fetch(`http://127.0.0.1:${ports.health}/readyz`)).ok, 30_000);
  } catch (err) {
    await process_.stop();
    throw err;
  }
  return { process: process_, port: ports.port, stop: () => process_.stop() };
}

/** The operator as the chart runs it (POD_NAMESPACE, its Lease), with the chart's ServiceAccount's rights. */
export function startChartOperator(options: ChartComponentOptions): Promise<ChartComponent> {
  return start('operator', options, ({ health }) => ({
    LEADER_ELECTION_ID: 'agentspec-operator',
    HEALTH_ADDR: `127.0.0.1:${health}`,
    METRICS_ADDR: '0',
  }));
}

/** The webhook as the chart runs it (rotator on the chart's Secret and configuration), as its ServiceAccount. */
export function startChartWebhook(
  options: ChartComponentOptions & { controlPlaneUrl: string },
): Promise<ChartComponent> {
  return start('webhook', options, ({ port, health }) => ({
    PORT: String(port),
    HEALTH_PORT: String(health),
    AGENTSPEC_CONTROL_PLANE_URL: options.controlPlaneUrl,
    SERVICE_NAME: 'agentspec-webhook',
    WEBHOOK_CONFIGURATION_NAME: 'agentspec-webhook',
    TLS_SECRET_NAME: 'agentspec-webhook-tls',
  }));
}
