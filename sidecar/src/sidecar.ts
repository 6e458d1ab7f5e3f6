import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createServiceLogger } from '@agentspec/service-kit';
import {
  AutoRegistration,
  autoRegistrationConfig,
  ENV,
  loadManifest,
  type AutoRegistrationStatus,
} from '@agentspec/sdk';
import { AuditRing } from './audit-ring.js';
import type { SidecarConfig } from './config.js';
import { createDiagnosticsApp, Diagnostics } from './diagnostics.js';
import { createSidecarMetrics } from './metrics.js';
import { createProxyServer } from './proxy.js';
import { OpaClient, type OpaFacts } from './opa.js';
import { LlmGapAnalyzer } from './llm-gap.js';

export interface RunningSidecar {
  proxyUrl: string;
  diagnosticsUrl: string;
  registration: AutoRegistrationStatus | undefined;
  stop(): Promise<void>;
}

export function createSidecarLogger(level: string, env: NodeJS.ProcessEnv = process.env): Logger {
  return createServiceLogger({
    component: 'agentspec-sidecar',
    level,
    secrets: [env[ENV.adminKey], env['ANTHROPIC_API_KEY']],
  });
}

const listen = (server: Server, port: number, host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });

/**
 * Starts the proxy (PROXY_PORT), the diagnostics (CONTROL_PLANE_PORT) and, when AGENTSPEC_CONTROL_PLANE_URL is
 * set, the registrar: it registers the pod's instance and heartbeats {health, gap} from its own reports.
 */
export async function startSidecar(
  config: SidecarConfig,
  options: { env?: NodeJS.ProcessEnv; logger?: Logger; host?: string } = {},
): Promise<RunningSidecar> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? createSidecarLogger(config.logLevel, env);
  const { manifest } = loadManifest(config.manifestPath);
  const ring = new AuditRing(config.auditRingSize);
  const metrics = createSidecarMetrics(ring);
  const host = options.host ?? '0.0.0.0';
  // Upstream's OPA input carries facts from the diagnostics' last probe of the agent (created below).
  const facts: { of?: () => OpaFacts } = {};
  const opa = config.opaUrl
    ? new OpaClient({
        url: config.opaUrl,
        layout: config.opaPolicyLayout,
        agentName: manifest.metadata.name,
        facts: () => facts.of!(),
      })
    : undefined;
  const proxy = createProxyServer({
    upstream: config.upstreamUrl,
    agentName: manifest.metadata.name,
    ring,
    metrics,
    logger,
    ...(opa ? { opa } : {}),
    opaProxyMode: config.opaProxyMode,
  });
  const proxyPort = await listen(proxy, config.proxyPort, host);
  const diagnostics = new Diagnostics({
    manifest,
    manifestPath: config.manifestPath,
    upstream: config.upstreamUrl,
    proxyPort,
    ring,
    metrics,
    logger,
    env,
    ...(opa ? { opa } : {}),
    ...(config.llm
      ? {
          llm: new LlmGapAnalyzer({
            apiKey: config.llm.apiKey,
            ...(config.llm.baseUrl ? { baseUrl: config.llm.baseUrl } : {}),
            model: config.llm.model,
            refreshMs: config.llm.refreshMinutes * 60_000,
            timeoutMs: config.llm.timeoutSeconds * 1000,
          }),
        }
      : {}),
  });
  facts.of = () => diagnostics.opaFacts();
  const { createServer } = await import('node:http');
  const diagnosticsServer = createServer(createDiagnosticsApp(diagnostics));
  const diagnosticsPort = await listen(diagnosticsServer, config.controlPlanePort, host);

  let registrar: AutoRegistration | undefined;
  const registration = autoRegistrationConfig(env, manifest.metadata.name);
  if (registration) {
    registrar = new AutoRegistration({
      config: {
        ...registration,
        runtime: env['KUBERNETES_SERVICE_HOST'] || env['AGENTSPEC_NAMESPACE'] ? 'k8s' : registration.runtime,
      },
      manifest,
      // health: the sidecar's health/ready report; gap: its /agentspec/gap report (the control plane grades its
      // score). One probe of the agent serves both.
      heartbeat: async () => {
        const probe = await diagnostics.probeAgent();
        const [health, gap] = await Promise.all([diagnostics.ready(probe), diagnostics.gap(probe)]);
        return { health: { ...health }, gap: { ...gap } };
      },
      log: (message) => logger.info(message),
    }).start();
  }
  const local = host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    proxyUrl: `http://${local}:${proxyPort}`,
    diagnosticsUrl: `http://${local}:${diagnosticsPort}`,
    registration: registrar?.status,
    async stop() {
      registrar?.stop();
      await Promise.all(
        [proxy, diagnosticsServer].map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeIdleConnections();
            }),
        ),
      );
    },
  };
}
