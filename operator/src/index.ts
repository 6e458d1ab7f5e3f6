export { WorkQueue, type WorkQueueOptions } from './work-queue.js';
export { runWorkers, TerminalError, type ReconcileResult, type RunWorkersOptions } from './controller-runner.js';
export { AgentReconciler, FIELD_MANAGER, type AgentReconcilerOptions } from './agent-reconciler.js';
export { setCondition, Reasons, type ConditionInput } from './conditions.js';
