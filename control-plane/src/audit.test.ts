import { describe, expect, it } from 'vitest';
import { FailureCounter } from './audit.js';

describe('FailureCounter', () => {
  it('reports the 1st, 10th and 100th failure of an address, and stays bounded', () => {
    const counter = new FailureCounter(3);
    const reported = Array.from({ length: 100 }, () => counter.fail('10.0.0.1')).filter((c) => c !== undefined);
    expect(reported).toEqual([1, 10, 100]);
    expect(counter.fail('a')).toBe(1);
    expect(counter.fail('b')).toBe(1);
    // a fourth address starts the counts over
    expect(counter.fail('c')).toBe(1);
    expect(counter.fail('10.0.0.1')).toBe(1);
  });
});
