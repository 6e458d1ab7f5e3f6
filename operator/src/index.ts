export { WorkQueue, type WorkQueueOptions } from './work-queue.js';
export { runWorkers, TerminalError, type ReconcileResult, type RunWorkersOptions } from './controller-runner.js';
export {
  AgentReconciler,
  FIELD_MANAGER,
  MANAGED_BY_SELECTOR,
  type AgentObject,
  type AgentReconcilerOptions,
} from './agent-reconciler.js';
export { setCondition, Reasons, type ConditionInput } from './conditions.js';
export { Informer, combinedCache, keyOf, type Cache, type InformerOptions } from './informer.js';
export { LeaderElector, type LeaderElectionOptions } from './leader-election.js';
export { loadOperatorConfig, helpText, OperatorConfigError, SETTINGS, type OperatorConfig } from './config.js';
export { startOperator, createOperatorLogger, type RunningOperator, type StartOperatorOptions } from './operator.js';
export { COPY_LABEL } from './registration-secret.js';
export { Manager, type ManagerOptions, type RunningManager, type Runnable } from './manager.js';
export { setupAgentController } from './agent-controller.js';
export { setupRegistrationSecretController } from './registration-secret-controller.js';
export { reuseConnections } from './kube-connections.js';
