#!/usr/bin/env node
// agentspec-operator [flags]: reconciles Agent resources until SIGTERM.
import { helpText, loadOperatorConfig, OperatorConfigError } from '../config.js';
import { createOperatorLogger, startOperator } from '../operator.js';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(helpText());
    return 0;
  }
  let config;
  try {
    config = loadOperatorConfig(args);
  } catch (err) {
    if (err instanceof OperatorConfigError) {
      process.stderr.write(`agentspec-operator: ${err.message}\n\n${helpText()}`);
      return 2;
    }
    throw err;
  }
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
  const signalled = new Promise<number>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        logger.info({ signal }, 'shutting down');
        void operator.stop().then(() => resolve(0));
      });
    }
  });
  return Promise.race([signalled, operator.exited]);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`agentspec-operator: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
