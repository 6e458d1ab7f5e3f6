import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { createServiceLogger } from '@agentspec/service-kit';
import { setupAgentController } from './agent-controller.js';
import type { OperatorConfig } from './config.js';
import { Manager, type RunningManager } from './manager.js';
import { setupRegistrationSecretController } from './registration-secret-controller.js';

export type RunningOperator = RunningManager;

export interface StartOperatorOptions {
  config: OperatorConfig;
  kubeConfig?: KubeConfig;
  logger?: Logger;
}

export function createOperatorLogger(level: string, secrets: (string | undefined)[]): Logger {
  return createServiceLogger({
    component: 'agentspec-operator',
    level,
    secrets,
    redactPaths: ['adminKey', '*.adminKey', 'apiKey', '*.apiKey'],
  });
}

/** The kubeconfig the settings name, else in-cluster, else the default one. */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

/** Starts the operator: a manager with the Agent and registration-Secret controllers. */
export async function startOperator(options: StartOperatorOptions): Promise<RunningOperator> {
  const { config } = options;
  const mgr = new Manager({
    kubeConfig: options.kubeConfig ?? loadKubeConfig(config.kubeconfig),
    logger: options.logger ?? createOperatorLogger(config.logLevel, [config.adminKey]),
    healthAddr: config.healthAddr,
    metricsAddr: config.metricsAddr,
    secrets: [config.adminKey],
    ...(config.leaderElect
      ? {
          leaderElection: {
            namespace: config.leaderElectionNamespace,
            name: config.leaderElectionId,
            identity: config.identity,
          },
        }
      : {}),
  });
  setupAgentController(mgr, config);
  setupRegistrationSecretController(mgr, config);
  const running = await mgr.start();
  void running.synced.then(() => mgr.logger.info({ namespace: config.namespace ?? '(all)' }, 'watching Agents'));
  return running;
}
