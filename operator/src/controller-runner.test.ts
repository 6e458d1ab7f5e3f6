import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { runWorkers, TerminalError } from './controller-runner.js';
import { WorkQueue } from './work-queue.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('runWorkers', () => {
  it('reconciles with at most `workers` at once and never one key twice at once', async () => {
    const queue = new WorkQueue({ name: 'agent' });
    let running = 0;
    let peak = 0;
    const active = new Set<string>();
    const seen: string[] = [];
    const reconcile = async (key: string) => {
      expect(active.has(key)).toBe(false);
      active.add(key);
      peak = Math.max(peak, ++running);
      seen.push(key);
      if (key === 'ns/a' && seen.filter((k) => k === 'ns/a').length === 1) queue.add('ns/a'); // an event during reconcile
      await tick(5);
      running--;
      active.delete(key);
      return undefined;
    };
    for (const key of ['ns/a', 'ns/b', 'ns/c', 'ns/d', 'ns/e']) queue.add(key);
    const done = runWorkers({ controller: 'agent', queue, workers: 2, reconcile });
    while (seen.length < 6) await tick(1);
    await tick(10);
    queue.shutDown();
    await done;
    expect(peak).toBe(2);
    expect(seen.filter((k) => k === 'ns/a')).toHaveLength(2);
    expect(seen).toHaveLength(6);
  });

  it('retries errors with backoff, forgets on success, does not retry terminal errors, and requeues after a delay', async () => {
    const registry = new Registry();
    const queue = new WorkQueue({ name: 'agent', registry, baseDelayMs: 1 });
    const calls: Record<string, number> = {};
    const errors: [string, boolean][] = [];
    const reconcile = async (key: string) => {
      calls[key] = (calls[key] ?? 0) + 1;
      if (key === 'ns/flaky' && calls[key] < 3) throw new Error('conflict');
      if (key === 'ns/invalid') throw new TerminalError('spec.deployment.image is not set');
      if (key === 'ns/poll' && calls[key] === 1) return { requeueAfterMs: 20 };
      return undefined;
    };
    for (const key of ['ns/flaky', 'ns/invalid', 'ns/poll']) queue.add(key);
    const done = runWorkers({
      controller: 'agent',
      queue,
      workers: 2,
      reconcile,
      registry,
      onError: (k, _e, terminal) => void errors.push([k, terminal]),
    });
    while ((calls['ns/flaky'] ?? 0) < 3 || (calls['ns/poll'] ?? 0) < 2) await tick(2);
    await tick(20);
    queue.shutDown();
    await done;
    expect(calls).toEqual({ 'ns/flaky': 3, 'ns/invalid': 1, 'ns/poll': 2 });
    expect(queue.numRequeues('ns/flaky')).toBe(0);
    expect(errors.map(([k, terminal]) => `${k}:${terminal}`).sort()).toEqual([
      'ns/flaky:false',
      'ns/flaky:false',
      'ns/invalid:true',
    ]);
    const text = await registry.metrics();
    expect(text).toContain('controller_runtime_reconcile_total{controller="agent",result="error"} 3');
    expect(text).toContain('controller_runtime_reconcile_total{controller="agent",result="success"} 2');
    expect(text).toContain('controller_runtime_reconcile_total{controller="agent",result="requeue_after"} 1');
    expect(text).toContain('controller_runtime_reconcile_errors_total{controller="agent"} 3');
    expect(text).toContain('controller_runtime_reconcile_time_seconds_count{controller="agent"} 6');
    expect(text).toContain('controller_runtime_active_workers{controller="agent"} 0');
  });
});
