#!/usr/bin/env node
// agentspec-operator [flags]: reconciles Agent resources until SIGTERM.
import { printedHelp, runCommand, stopOnSignal } from '@agentspec/service-kit';
import { helpText, loadOperatorConfig } from '../config.js';
import { createOperatorLogger, startOperator } from '../operator.js';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (printedHelp(args, helpText())) return 0;
  const config = loadOperatorConfig(args);
  const logger = createOperatorLogger(config.logLevel, [config.adminKey]);
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
