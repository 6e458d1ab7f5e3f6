import { describe, expect, it } from 'vitest';
import { setCondition } from './conditions.js';

const t1 = new Date('2026-11-23T10:00:00.123Z');
const t2 = new Date('2026-11-23T11:00:00.000Z');

describe('setCondition', () => {
  it('adds a condition with the transition time in RFC 3339 seconds', () => {
    expect(
      setCondition(
        [],
        { type: 'Ready', status: 'False', reason: 'PodsNotReady', message: '0/1', observedGeneration: 1 },
        t1,
      ),
    ).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'PodsNotReady',
        message: '0/1',
        observedGeneration: 1,
        lastTransitionTime: '2026-11-23T10:00:00Z',
      },
    ]);
  });

  it('moves lastTransitionTime only when the status flips', () => {
    const first = setCondition(
      [],
      { type: 'Ready', status: 'False', reason: 'PodsNotReady', message: '0/1', observedGeneration: 1 },
      t1,
    );
    const same = setCondition(
      first,
      { type: 'Ready', status: 'False', reason: 'PodsNotReady', message: '0/2', observedGeneration: 2 },
      t2,
    );
    expect(same[0]).toMatchObject({
      lastTransitionTime: '2026-11-23T10:00:00Z',
      message: '0/2',
      observedGeneration: 2,
    });
    const flipped = setCondition(
      same,
      { type: 'Ready', status: 'True', reason: 'DeploymentReady', message: '1/1', observedGeneration: 2 },
      t2,
    );
    expect(flipped[0]).toMatchObject({ status: 'True', lastTransitionTime: '2026-11-23T11:00:00Z' });
  });

  it('keeps the other conditions in place', () => {
    const both = setCondition(
      setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: '', observedGeneration: 1 }, t1),
      { type: 'Progressing', status: 'True', reason: 'B', message: '', observedGeneration: 1 },
      t1,
    );
    const updated = setCondition(
      both,
      { type: 'Ready', status: 'True', reason: 'C', message: '', observedGeneration: 1 },
      t2,
    );
    expect(updated.map((c) => c.type)).toEqual(['Ready', 'Progressing']);
  });
});
