import { describe, expect, it } from 'vitest';
import { gradeOf, phaseOf } from './phase.js';

describe('phase and grade', () => {
  it.each([
    ['healthy', 'Healthy'],
    ['ready', 'Healthy'],
    ['degraded', 'Degraded'],
    ['unhealthy', 'Unhealthy'],
    ['unavailable', 'Unhealthy'],
    ['not-ready', 'Unhealthy'],
    ['sleeping', 'Unknown'],
    [undefined, 'Unknown'],
  ])('health status %s is phase %s', (status, phase) => {
    expect(phaseOf(status)).toBe(phase);
  });

  it('grades from the score', () => {
    expect([95, 90, 89, 75, 74, 60, 59, 45, 44].map((s) => gradeOf(s))).toEqual([
      'A',
      'A',
      'B',
      'B',
      'C',
      'C',
      'D',
      'D',
      'F',
    ]);
    expect(gradeOf(undefined)).toBeUndefined();
  });
});
