import { describe, expect, it } from 'vitest';
import { waitFor } from './wait-for.js';

describe('waitFor', () => {
  it('returns the first value that is not undefined or false', async () => {
    let calls = 0;
    const value = await waitFor('the third call', async () => (++calls === 3 ? 'ready' : undefined), { intervalMs: 1 });
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('times out naming what it waited for and the last error', async () => {
    await expect(
      waitFor('a pod', () => Promise.reject(new Error('not found')), { timeoutMs: 20, intervalMs: 5 }),
    ).rejects.toThrow('timed out after 20 ms waiting for a pod: not found');
  });
});
