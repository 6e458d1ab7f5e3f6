#!/usr/bin/env node
// agentspec-sidecar: proxy on PROXY_PORT, diagnostics on CONTROL_PLANE_PORT, registrar; configured by env (seed 001).
import { keepServingOnUnhandledErrors, runCommand, settingsHelp, stopOnSignal } from '@agentspec/service-kit';
import { loadSidecarConfig, SETTINGS, SidecarConfigError } from '../config.js';
import { createSidecarLogger, startSidecar } from '../sidecar.js';

const HELP = settingsHelp(
  'runs beside an agent: proxy, live diagnostics, OPA, registrar',
  'agentspec-sidecar',
  SETTINGS,
);

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
