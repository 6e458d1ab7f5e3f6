import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Database } from './db/schema.js';
import { HeartbeatWriter, type HeartbeatRow, type HeartbeatWrite } from './heartbeat-writer.js';

/** A writer whose statements are held until the test finishes them (the statement itself is tested on PostgreSQL). */
class HeldWriter extends HeartbeatWriter {
  readonly statements: { pks: string[]; finish: () => void }[] = [];

  constructor(maxInFlight: number, maxBatchBytes?: number) {
    super(null as unknown as Kysely<Database>, {
      minIntervalSeconds: 0,
      historyLimit: 10,
      maxInFlight,
      ...(maxBatchBytes !== undefined ? { maxBatchBytes } : {}),
    });
  }

  protected override execute(writes: HeartbeatWrite[]): Promise<HeartbeatRow[]> {
    return new Promise((resolve) => {
      const rows = writes.map((w) => ({
        id: w.instancePk,
        instance_id: w.instancePk,
        agent_id: 'a',
        namespace: 'n',
        name: 'agent',
        phase_changed: false,
        announce: false,
      }));
      this.statements.push({ pks: writes.map((w) => w.instancePk), finish: () => resolve(rows) });
    });
  }

  running(): string[][] {
    return this.statements.map((s) => s.pks);
  }
}

const write = (instancePk: string, healthJson = '{}'): HeartbeatWrite => ({
  instancePk,
  tokenIdHash: 't',
  healthStatus: 'healthy',
  phase: 'Healthy',
  score: 90,
  grade: 'A',
  healthJson,
  healthHash: 'h',
  gapJson: '{}',
  gapHash: 'g',
  proofJson: null,
  proofHash: null,
  problemsJson: '{}',
  intervalSeconds: null,
});

describe('HeartbeatWriter scheduling', () => {
  it('never puts an instance in a statement while another statement writes it', async () => {
    const writer = new HeldWriter(4);
    const first = writer.write(write('a'));
    const others = [writer.write(write('b')), writer.write(write('a')), writer.write(write('c'))];
    // 'a' is being written: its second heartbeat waits although statement slots are free.
    expect(writer.running()).toEqual([['a'], ['b'], ['c']]);

    writer.statements[0]!.finish();
    await first;
    await Promise.resolve();
    expect(writer.running()).toEqual([['a'], ['b'], ['c'], ['a']]);
    for (const statement of writer.statements.slice(1)) statement.finish();
    const results = await Promise.all(others);
    expect(results.every((r) => r.written)).toBe(true);
  });

  it('batches what waits, one heartbeat per instance per statement, oldest first', async () => {
    const writer = new HeldWriter(1);
    const all = [
      writer.write(write('a')),
      writer.write(write('a')),
      writer.write(write('b')),
      writer.write(write('a')),
    ];
    expect(writer.running()).toEqual([['a']]);
    writer.statements[0]!.finish();
    await all[0];
    await Promise.resolve();
    expect(writer.running()[1]).toEqual(['a', 'b']);
    writer.statements[1]!.finish();
    await all[2];
    await Promise.resolve();
    expect(writer.running()[2]).toEqual(['a']);
    writer.statements[2]!.finish();
    expect((await Promise.all(all)).every((r) => r.written)).toBe(true);
  });

  it('bounds a statement by its documents’ size, oldest first, a larger heartbeat going alone', async () => {
    const writer = new HeldWriter(1, 100);
    const big = (n: number) => `{"x":"${'y'.repeat(n)}"}`;
    const all = [
      writer.write(write('a')),
      writer.write(write('b', big(40))),
      writer.write(write('c', big(40))),
      writer.write(write('d', big(40))),
      writer.write(write('e', big(500))),
      writer.write(write('f')),
    ];
    for (const expected of [['a'], ['b', 'c'], ['d'], ['e'], ['f']]) {
      expect(writer.running().at(-1)).toEqual(expected);
      writer.statements.at(-1)!.finish();
      await Promise.resolve();
      await Promise.resolve();
    }
    expect((await Promise.all(all)).every((r) => r.written)).toBe(true);
  });
});
