#!/usr/bin/env node
// agentspec-sidecar: proxy on PROXY_PORT, diagnostics on CONTROL_PLANE_PORT, registrar; configured by env (seed 001).
import {
  keepServingOnUnhandledErrors,
  printedHelp,
  runCommand,
  settingsHelp,
  stopOnSignal,
} from '@agentspec/service-kit';
import { loadSidecarConfig, SETTINGS } from '../config.js';
import { createSidecarLogger, startSidecar } from '../sidecar.js';

const HELP = settingsHelp(
  'runs beside an agent: proxy, live diagnostics, OPA, registrar',
  'agentspec-sidecar',
  SETTINGS,
);

async function main(): Promise<number> {
  if (printedHelp(process.argv.slice(2), HELP)) return 0;
  const config = loadSidecarConfig();
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
