import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryableStatus, parseRetryAfter, RequestFailedError, sendWithRetry } from './retry.js';

const respond = (status: number, headers: Record<string, string> = {}) =>
  new Response(status === 204 ? null : '{}', { status, headers });

function sequence(...outcomes: (number | Error | [number, Record<string, string>])[]) {
  let i = 0;
  const send = async (): Promise<Response> => {
    const next = outcomes[Math.min(i++, outcomes.length - 1)];
    if (next instanceof Error) throw next;
    return Array.isArray(next) ? respond(next[0], next[1]) : respond(next as number);
  };
  return { send, calls: () => i };
}

describe('backoff', () => {
  it('jitters up to base × 2^attempt, capped', () => {
    expect(backoffDelay(0, { baseMs: 100, random: () => 1 })).toBe(100);
    expect(backoffDelay(3, { baseMs: 100, random: () => 1 })).toBe(800);
    expect(backoffDelay(20, { baseMs: 100, maxMs: 5_000, random: () => 1 })).toBe(5_000);
    expect(backoffDelay(3, { baseMs: 100, random: () => 0.5 })).toBe(400);
    expect(backoffDelay(3, { baseMs: 100, random: () => 0 })).toBe(0);
  });

  it('reads Retry-After in seconds or as an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7_000);
    expect(parseRetryAfter(new Date(61_000).toUTCString(), 1_000)).toBe(60_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('retries 429 and 5xx, never other 4xx', () => {
    expect([429, 500, 502, 503].map(isRetryableStatus)).toEqual([true, true, true, true]);
    expect([400, 401, 403, 404, 413].map(isRetryableStatus)).toEqual([false, false, false, false, false]);
  });
});

describe('sendWithRetry', () => {
  it('retries network errors and 5xx, honouring Retry-After, until a final answer', async () => {
    const sleeps: number[] = [];
    const { send, calls } = sequence(new Error('ECONNREFUSED'), 503, [429, { 'retry-after': '2' }], 204);
    const response = await sendWithRetry(send, {
      baseMs: 100,
      random: () => 1,
      sleep: async (ms) => void sleeps.push(ms),
    });
    expect(response.status).toBe(204);
    expect(calls()).toBe(4);
    expect(sleeps).toEqual([100, 200, 2_000]);
  });

  it('caps a long Retry-After at maxMs', async () => {
    const sleeps: number[] = [];
    const { send } = sequence([503, { 'retry-after': '3600' }], 200);
    await sendWithRetry(send, { maxMs: 10_000, sleep: async (ms) => void sleeps.push(ms) });
    expect(sleeps).toEqual([10_000]);
  });

  it('returns a 4xx at once without retrying', async () => {
    const { send, calls } = sequence(400, 200);
    expect((await sendWithRetry(send, { sleep: async () => undefined })).status).toBe(400);
    expect(calls()).toBe(1);
  });

  it('gives up after maxAttempts with the last failure', async () => {
    const { send, calls } = sequence(502);
    const error = await sendWithRetry(send, { maxAttempts: 3, sleep: async () => undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestFailedError);
    expect(error).toMatchObject({ message: 'gave up after 3 attempts: HTTP 502', status: 502, attempts: 3 });
    expect(calls()).toBe(3);
  });
});
