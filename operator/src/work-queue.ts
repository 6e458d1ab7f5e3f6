import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { registered } from './metric.js';

export interface WorkQueueOptions {
  /** The controller's name, the `name` label of the workqueue_* metrics. */
  name: string;
  /** First retry delay of a failing key. Default 5 ms (controller-runtime's). */
  baseDelayMs?: number;
  /** Cap of a failing key's delay. Default 1000 s. */
  maxDelayMs?: number;
  registry?: Registry;
  now?: () => number;
}

interface WorkQueueMetrics {
  depth: Gauge<'name'>;
  adds: Counter<'name'>;
  retries: Counter<'name'>;
  queueDuration: Histogram<'name'>;
  workDuration: Histogram<'name'>;
}

// controller-runtime's: ExponentialBuckets(10e-9, 10, 12), 10 ns to 1,000 s.
const buckets = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000];

function metricsFor(registry: Registry): WorkQueueMetrics {
  const labelNames = ['name'] as const;
  return {
    depth: registered(
      registry,
      'workqueue_depth',
      (registers) => new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames, registers }),
    ),
    adds: registered(
      registry,
      'workqueue_adds_total',
      (registers) =>
        new Counter({
          name: 'workqueue_adds_total',
          help: 'Total number of adds handled by workqueue',
          labelNames,
          registers,
        }),
    ),
    retries: registered(
      registry,
      'workqueue_retries_total',
      (registers) =>
        new Counter({
          name: 'workqueue_retries_total',
          help: 'Total number of retries handled by workqueue',
          labelNames,
          registers,
        }),
    ),
    queueDuration: registered(
      registry,
      'workqueue_queue_duration_seconds',
      (registers) =>
        new Histogram({
          name: 'workqueue_queue_duration_seconds',
          help: 'How long in seconds an item stays in workqueue before being requested',
          labelNames,
          buckets,
          registers,
        }),
    ),
    workDuration: registered(
      registry,
      'workqueue_work_duration_seconds',
      (registers) =>
        new Histogram({
          name: 'workqueue_work_duration_seconds',
          help: 'How long in seconds processing an item from workqueue takes',
          labelNames,
          buckets,
          registers,
        }),
    ),
  };
}

/**
 * client-go's rate-limited work queue: a key added many times before it is processed is processed once; a key
 * is never handed to two workers at once (added while processing, it is queued again when done); a failing key
 * waits baseDelay × 2^(failures − 1), capped, until forget().
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly addedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly metrics: WorkQueueMetrics | undefined;
  private readonly now: () => number;

  constructor(private readonly options: WorkQueueOptions) {
    this.metrics = options.registry ? metricsFor(options.registry) : undefined;
    this.now = options.now ?? (() => performance.now());
  }

  get length(): number {
    return this.queue.length;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Queues a key unless it is already waiting. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics?.adds.inc({ name: this.options.name });
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.enqueue(key);
  }

  /** Queues a key after `ms`; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** Queues a failing key after its per-key exponential backoff. */
  addRateLimited(key: string): void {
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    this.metrics?.retries.inc({ name: this.options.name });
    this.addAfter(key, this.backoff(failures));
  }

  /** The delay of the n-th consecutive failure. */
  backoff(failures: number): number {
    const base = this.options.baseDelayMs ?? 5;
    const max = this.options.maxDelayMs ?? 1_000_000;
    return Math.min(max, base * 2 ** Math.min(failures - 1, 60));
  }

  /** Resets a key's backoff (after a successful reconcile). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process, waiting for one; undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(this.start(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks a key processed; if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    const started = this.startedAt.get(key);
    if (started !== undefined)
      this.metrics?.workDuration.observe({ name: this.options.name }, (this.now() - started) / 1000);
    this.startedAt.delete(key);
    if (this.dirty.has(key)) this.enqueue(key);
  }

  /** Stops handing out keys: waiting get() calls resolve with undefined; delayed adds are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  private enqueue(key: string): void {
    this.addedAt.set(key, this.now());
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(this.start(key));
    } else {
      this.queue.push(key);
      this.metrics?.depth.set({ name: this.options.name }, this.queue.length);
    }
  }

  private start(key: string): string {
    this.dirty.delete(key);
    this.processing.add(key);
    const added = this.addedAt.get(key);
    if (added !== undefined)
      this.metrics?.queueDuration.observe({ name: this.options.name }, (this.now() - added) / 1000);
    this.addedAt.delete(key);
    this.startedAt.set(key, this.now());
    this.metrics?.depth.set({ name: this.options.name }, this.queue.length);
    return key;
  }
}
