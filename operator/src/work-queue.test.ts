import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WorkQueue } from './work-queue.js';

afterEach(() => void vi.useRealTimers());

describe('WorkQueue', () => {
  it('processes a key added many times before it is taken once', async () => {
    const queue = new WorkQueue({ name: 'agents' });
    for (let i = 0; i < 5; i++) queue.add('ns/a');
    queue.add('ns/b');
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe('ns/a');
    expect(await queue.get()).toBe('ns/b');
    expect(queue.length).toBe(0);
  });

  it('never hands a key to two workers: added while processing, it comes back after done()', async () => {
    const queue = new WorkQueue({ name: 'agents' });
    queue.add('ns/a');
    const key = await queue.get();
    queue.add('ns/a');
    queue.add('ns/a');
    expect(queue.length).toBe(0);
    queue.done(key ?? '');
    expect(queue.length).toBe(1);
    expect(await queue.get()).toBe('ns/a');
    queue.done('ns/a');
    expect(queue.length).toBe(0);
  });

  it('wakes a waiting worker when a key arrives, and every waiter on shutDown', async () => {
    const queue = new WorkQueue({ name: 'agents' });
    const waiting = queue.get();
    const other = queue.get();
    queue.add('ns/a');
    expect(await waiting).toBe('ns/a');
    queue.shutDown();
    expect(await other).toBeUndefined();
    queue.add('ns/b');
    expect(await queue.get()).toBeUndefined();
  });

  it('backs off a failing key exponentially from 5 ms to 1000 s, per key, until forget()', () => {
    vi.useFakeTimers();
    const queue = new WorkQueue({ name: 'agents' });
    expect([1, 2, 3, 4, 10].map((n) => queue.backoff(n))).toEqual([5, 10, 20, 40, 2560]);
    expect(queue.backoff(30)).toBe(1_000_000);
    queue.addRateLimited('ns/a');
    queue.addRateLimited('ns/a');
    queue.addRateLimited('ns/b');
    expect([queue.numRequeues('ns/a'), queue.numRequeues('ns/b')]).toEqual([2, 1]);
    expect(queue.length).toBe(0);
    vi.advanceTimersByTime(5);
    expect(queue.length).toBe(2); // a's first delay (5 ms) was earlier than its second (10 ms) and wins
    queue.forget('ns/a');
    expect(queue.numRequeues('ns/a')).toBe(0);
  });

  it('keeps the earlier of two delayed adds of one key', () => {
    vi.useFakeTimers();
    const queue = new WorkQueue({ name: 'agents' });
    queue.addAfter('ns/a', 1_000);
    queue.addAfter('ns/a', 100);
    queue.addAfter('ns/a', 5_000);
    vi.advanceTimersByTime(100);
    expect(queue.length).toBe(1);
    vi.advanceTimersByTime(5_000);
    expect(queue.length).toBe(1);
  });

  it('reports controller-runtime workqueue metrics', async () => {
    const registry = new Registry();
    const queue = new WorkQueue({ name: 'agent', registry });
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/b');
    queue.done((await queue.get()) ?? '');
    queue.addRateLimited('ns/a');
    const text = await registry.metrics();
    expect(text).toContain('workqueue_adds_total{name="agent"} 2');
    expect(text).toContain('workqueue_depth{name="agent"} 1');
    expect(text).toContain('workqueue_retries_total{name="agent"} 1');
    expect(text).toContain('workqueue_queue_duration_seconds_count{name="agent"} 1');
    expect(text).toContain('workqueue_work_duration_seconds_count{name="agent"} 1');
  });
});

describe('WorkQueue metrics registry', () => {
  it('lets several queues share one registry, each under its own name label', async () => {
    const registry = new Registry();
    new WorkQueue({ name: 'agents', registry }).add('ns/a');
    new WorkQueue({ name: 'secrets', registry }).add('ns/b');
    const text = await registry.metrics();
    expect(text).toContain('workqueue_adds_total{name="agents"} 1');
    expect(text).toContain('workqueue_adds_total{name="secrets"} 1');
  });
});
