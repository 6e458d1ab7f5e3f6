#!/usr/bin/env node
// agentspec-sidecar: proxy on PROXY_PORT, diagnostics on CONTROL_PLANE_PORT, registrar; configured by env (seed 001).
import { keepServingOnUnhandledErrors, runCommand, stopOnSignal } from '@agentspec/sdk';
import { loadSidecarConfig, SidecarConfigError } from '../config.js';
import { createSidecarLogger, startSidecar } from '../sidecar.js';

const HELP = `agentspec-sidecar: runs beside an agent: proxy, live diagnostics, OPA, registrar

environment:
  UPSTREAM_URL        the agent's base URL (required, http: or https:)
  MANIFEST_PATH       agent.yaml [/manifest/agent.yaml]
  PROXY_PORT          proxy port [4000]
  CONTROL_PLANE_PORT  diagnostics port (/agentspec/...) [4001]
  AUDIT_RING_SIZE     audit entries kept in memory [1000]
  OPA_URL             OPA base URL; unset: no policy checks
  OPA_PROXY_MODE      track | enforce | off [track]
  AGENTSPEC_CONTROL_PLANE_URL, AGENTSPEC_ADMIN_KEY, AGENTSPEC_AGENT_NAME, AGENTSPEC_NAMESPACE,
  AGENTSPEC_INSTANCE_ID  registration (the webhook injects them)
  LOG_LEVEL           [info]
`;

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  let config;
  try {
    config = loadSidecarConfig();
  } catch (err) {
    if (err instanceof SidecarConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createSidecarLogger(config.logLevel);
  keepServingOnUnhandledErrors((err, kind) =>
    logger.error({ err: (err as Error)?.message ?? String(err), kind }, 'unhandled error; still serving'),
  );
  let sidecar;
  try {
    sidecar = await startSidecar(config, { logger });
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'could not start');
    return 1;
  }
  logger.info(
    {
      upstream: config.upstreamUrl.origin,
      proxy: sidecar.proxyUrl,
      diagnostics: sidecar.diagnosticsUrl,
      opa: config.opaUrl ? `${config.opaUrl} (${config.opaProxyMode})` : 'off',
      registrar: sidecar.registration ? 'on' : 'off',
    },
    'agentspec-sidecar started',
  );
  return stopOnSignal(sidecar.stop, (signal) => logger.info({ signal }, 'shutting down'));
}

runCommand('agentspec-sidecar', main);
