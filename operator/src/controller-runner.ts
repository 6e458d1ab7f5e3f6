import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { registered } from './metric.js';
import type { WorkQueue } from './work-queue.js';

/** What a reconcile asks for: nothing (done), or to run again after a delay. */
export type ReconcileResult = undefined | { requeueAfterMs: number };

/** A failure that retrying cannot fix (e.g. an invalid spec): logged and counted, never requeued. */
export class TerminalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TerminalError';
  }
}

export interface RunWorkersOptions {
  controller: string;
  queue: WorkQueue;
  /** Keys processed at the same time (never the same key twice). */
  workers: number;
  /** Reads the world for `namespace/name` and converges it; level-based, idempotent. */
  reconcile: (key: string) => Promise<ReconcileResult>;
  registry?: Registry;
  onError?: (key: string, error: unknown, terminal: boolean) => void;
}

interface ControllerMetrics {
  total: Counter<'controller' | 'result'>;
  errors: Counter<'controller'>;
  time: Histogram<'controller'>;
  active: Gauge<'controller'>;
}

const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2,
  2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

function metricsFor(registry: Registry): ControllerMetrics {
  return {
    total: registered(
      registry,
      'controller_runtime_reconcile_total',
      (registers) =>
        new Counter({
          name: 'controller_runtime_reconcile_total',
          help: 'Total number of reconciliations per controller',
          labelNames: ['controller', 'result'],
          registers,
        }),
    ),
    errors: registered(
      registry,
      'controller_runtime_reconcile_errors_total',
      (registers) =>
        new Counter({
          name: 'controller_runtime_reconcile_errors_total',
          help: 'Total number of reconciliation errors per controller',
          labelNames: ['controller'],
          registers,
        }),
    ),
    time: registered(
      registry,
      'controller_runtime_reconcile_time_seconds',
      (registers) =>
        new Histogram({
          name: 'controller_runtime_reconcile_time_seconds',
          help: 'Length of time per reconciliation per controller',
          labelNames: ['controller'],
          buckets: RECONCILE_BUCKETS,
          registers,
        }),
    ),
    active: registered(
      registry,
      'controller_runtime_active_workers',
      (registers) =>
        new Gauge({
          name: 'controller_runtime_active_workers',
          help: 'Number of currently used workers per controller',
          labelNames: ['controller'],
          registers,
        }),
    ),
  };
}

/**
 * Runs `workers` loops that take keys from the queue and reconcile them, controller-runtime style: success
 * forgets the key's backoff; "requeue after" adds it back after the delay; an error requeues it with per-key
 * exponential backoff (a TerminalError does not). Resolves when the queue shuts down and every worker is idle.
 */
export async function runWorkers(options: RunWorkersOptions): Promise<void> {
  const metrics = options.registry ? metricsFor(options.registry) : undefined;
  const labels = { controller: options.controller };
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await options.queue.get();
      if (key === undefined) return;
      const end = metrics?.time.startTimer(labels);
      metrics?.active.inc(labels);
      try {
        const result = await options.reconcile(key);
        options.queue.forget(key);
        if (result && result.requeueAfterMs > 0) {
          options.queue.addAfter(key, result.requeueAfterMs);
          metrics?.total.inc({ ...labels, result: 'requeue_after' });
        } else {
          metrics?.total.inc({ ...labels, result: 'success' });
        }
      } catch (err) {
        const terminal = err instanceof TerminalError;
        metrics?.total.inc({ ...labels, result: 'error' });
        metrics?.errors.inc(labels);
        if (terminal) options.queue.forget(key);
        else options.queue.addRateLimited(key);
        options.onError?.(key, err, terminal);
      } finally {
        metrics?.active.dec(labels);
        end?.();
        options.queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.workers) }, worker));
}
