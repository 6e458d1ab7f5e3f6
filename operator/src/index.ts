export { WorkQueue, type WorkQueueOptions } from './work-queue.js';
export { runWorkers, TerminalError, type ReconcileResult, type RunWorkersOptions } from './controller-runner.js';
