#!/usr/bin/env node
// agentspec-operator [flags]: reconciles Agent resources until SIGTERM.
// agentspec-operator release-finalizers [flags]: removes its finalizer from every Agent (the chart's pre-delete hook).
import { printedHelp, runCommand, stopOnSignal } from '@agentspec/service-kit';
import { helpText, loadOperatorConfig } from '../config.js';
import { createOperatorLogger, loadKubeConfig, startOperator } from '../operator.js';
import { releaseFinalizers } from '../release-finalizers.js';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (printedHelp(args, helpText())) return 0;
  const release = args[0] === 'release-finalizers';
  const config = loadOperatorConfig(release ? args.slice(1) : args);
  const logger = createOperatorLogger(config.logLevel, [config.adminKey]);
  if (release) {
    const released = await releaseFinalizers(loadKubeConfig(config.kubeconfig), logger, config.namespace);
    logger.info({ released }, 'finalizers released');
    return 0;
  }
  let operator;
  try {
    operator = await startOperator({ config, logger });
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'could not start');
    return 1;
  }
  logger.info(
    {
      namespace: config.namespace ?? '(all)',
      controlPlane: config.controlPlaneUrl ?? '(none)',
      leaderElection: config.leaderElect ? `${config.leaderElectionNamespace}/${config.leaderElectionId}` : 'off',
      health: operator.healthUrl,
      metrics: operator.metricsUrl,
    },
    'agentspec-operator started',
  );
  const signalled = stopOnSignal(operator.stop, (signal) => logger.info({ signal }, 'shutting down'));
  return Promise.race([signalled, operator.exited]);
}

runCommand('agentspec-operator', main, helpText);
