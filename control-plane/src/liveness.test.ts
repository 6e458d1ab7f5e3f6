import { describe, expect, it } from 'vitest';
import { MAX_PROBLEMS, problemsOf } from './liveness.js';

describe('problemsOf', () => {
  it('lists failing checks before warnings, by severity, keeping the report order among equals', () => {
    const health = {
      checks: [
        { id: 'a', status: 'warn', severity: 'warning', message: 'slowish' },
        { id: 'b', status: 'pass', severity: 'info' },
        { id: 'c', status: 'fail', severity: 'warning', message: 'down' },
        { id: 'd', status: 'fail', severity: 'critical', remediation: 'restart it' },
        { id: 'e', status: 'fail', severity: 'warning', message: 'also down' },
      ],
    };
    expect(problemsOf(health, {}).checks.map((c) => [c.id, c.status])).toEqual([
      ['d', 'fail'],
      ['c', 'fail'],
      ['e', 'fail'],
      ['a', 'warn'],
    ]);
    expect(problemsOf(health, {}).checks[0]).toEqual({
      id: 'd',
      status: 'fail',
      severity: 'critical',
      message: 'd',
      remediation: 'restart it',
    });
  });

  it('reads violations (or upstream-style issues) by severity, bounded in number and length', () => {
    const violations = Array.from({ length: 8 }, (_, n) => ({
      ruleId: `R-${n}`,
      severity: n === 7 ? 'critical' : 'low',
      title: 't'.repeat(500),
    }));
    const { violations: found } = problemsOf({}, { violations });
    expect(found).toHaveLength(MAX_PROBLEMS);
    expect(found[0]).toMatchObject({ id: 'R-7', severity: 'critical' });
    expect(found[0]!.message).toHaveLength(200);
    expect(problemsOf({}, { issues: [{ id: 'x', severity: 'high', message: 'm' }] }).violations).toEqual([
      { id: 'x', severity: 'high', message: 'm' },
    ]);
  });

  it('ignores what is not a list of objects with an id', () => {
    expect(problemsOf({ checks: 'nope' }, { violations: [null, 3, { severity: 'high' }] })).toEqual({
      checks: [],
      violations: [],
    });
  });
});
