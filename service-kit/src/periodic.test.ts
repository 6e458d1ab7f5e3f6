import { describe, expect, it } from 'vitest';
import { ifFound, Periodic } from './periodic.js';

describe('Periodic', () => {
  it('runs at once, again after each interval, survives a failing tick, and stops', async () => {
    let runs = 0;
    const errors: unknown[] = [];
    let resolveThird: () => void = () => undefined;
    const third = new Promise<void>((r) => (resolveThird = r));
    const periodic = new Periodic(
      async () => {
        runs++;
        if (runs === 2) throw new Error('second fails');
        if (runs === 3) resolveThird();
      },
      1,
      (err) => errors.push(err),
    );
    await periodic.start();
    expect(runs).toBe(1);
    await third;
    periodic.stop();
    const stoppedAt = runs;
    expect(errors).toHaveLength(1);
    await new Promise((r) => setImmediate(r));
    expect(runs).toBe(stoppedAt);
  });
});

describe('ifFound', () => {
  it('is undefined on 404 and rethrows anything else', async () => {
    expect(await ifFound(async () => 'x')).toBe('x');
    expect(await ifFound(() => Promise.reject(Object.assign(new Error('gone'), { code: 404 })))).toBeUndefined();
    await expect(ifFound(() => Promise.reject(Object.assign(new Error('no'), { code: 403 })))).rejects.toThrow('no');
  });
});
