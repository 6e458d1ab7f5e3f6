import { describe, expect, it } from 'vitest';
import { microTime } from './leader-election.js';

describe('microTime', () => {
  it('writes the six fractional digits the apiserver requires', () => {
    expect(String(microTime(new Date('2026-11-23T23:17:24.480Z')))).toBe('2026-11-23T23:17:24.480000Z');
  });
});
