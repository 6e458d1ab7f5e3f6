import { describe, expect, it } from 'vitest';
import { AuditRing, type AuditEntry } from './audit-ring.js';

const entry = (n: number): AuditEntry => ({
  requestId: `r${n}`,
  at: Date.parse('2026-11-23T00:00:00.000Z') + n,
  method: 'GET',
  path: `/${n}`,
  status: 200,
  durationMs: 1,
});

describe('AuditRing', () => {
  it('keeps the newest entries up to its capacity, newest first, and finds them by request id', () => {
    const ring = new AuditRing(3);
    for (let n = 1; n <= 5; n++) ring.push(entry(n));
    expect(ring.size).toBe(3);
    expect(ring.latest().map((e) => e.requestId)).toEqual(['r5', 'r4', 'r3']);
    expect(ring.latest(2).map((e) => e.requestId)).toEqual(['r5', 'r4']);
    expect(ring.find('r4')?.path).toBe('/4');
    expect(ring.latest(1)[0]?.timestamp).toBe('2026-11-23T00:00:00.005Z');
    expect(ring.find('r1')).toBeUndefined();
  });
});
