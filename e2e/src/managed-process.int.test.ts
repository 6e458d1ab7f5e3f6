import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ComponentError, ManagedProcess } from './managed-process.js';

const logDir = mkdtempSync(join(tmpdir(), 'managed-process-'));

describe('ManagedProcess', () => {
  it('fails at once, with the log tail, when the component exits before it is ready', async () => {
    const proc = new ManagedProcess({
      name: 'crashy',
      command: 'sh',
      args: ['-c', 'echo "listening failed: address in use" >&2; exit 3'],
      logPath: join(logDir, 'crashy.log'),
    });
    const started = Date.now();
    const error = await proc.waitUntil('ready', async () => false, 60_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComponentError);
    expect((error as ComponentError).message).toMatch(/crashy: exited early \(code 3/);
    expect((error as ComponentError).logTail).toContain('listening failed: address in use');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('gives up after the timeout with the last probe error and the log tail, and stop() ends it', async () => {
    const proc = new ManagedProcess({
      name: 'stuck',
      command: 'sh',
      args: ['-c', 'echo "waiting for a peer"; exec sleep 600'],
      logPath: join(logDir, 'stuck.log'),
    });
    const error = await proc
      .waitUntil('ready', () => Promise.reject(new Error('connection refused')), 500, 50)
      .catch((e: unknown) => e);
    expect((error as ComponentError).message).toMatch(
      /stuck: not ready after 500 ms \(last probe error: connection refused\)/,
    );
    expect((error as ComponentError).message).toContain('waiting for a peer');
    await proc.stop();
    expect(proc.running).toBe(false);
    expect(() => process.kill(proc.pid, 0)).toThrow();
  });

  it('reports a command that cannot be started', () => {
    const start = (): ManagedProcess =>
      new ManagedProcess({
        name: 'missing',
        command: join(logDir, 'no-such-binary'),
        args: [],
        logPath: join(logDir, 'missing.log'),
      });
    expect(start).toThrow(/missing: could not start .*no-such-binary \(missing or not executable\)/);
  });
});
