import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { ManagedProcess } from './managed-process.js';
import { redisPing } from '@agentspec/sdk';

export interface TestRedis {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Starts Debian's redis-server on a free loopback port (no persistence), optionally with a password. */
export async function startTestRedis(options: { password?: string } = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'agentspec-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  if (options.password) args.push('--requirepass', options.password);
  const proc = new ManagedProcess({
    name: 'redis-server',
    command: 'redis-server',
    args,
    logPath: join(dir, 'redis.log'),
  });
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  const url = new URL(`redis://${auth}127.0.0.1:${port}`);
  await proc.waitUntil(
    'answering PING',
    async () => (await redisPing({ host: '127.0.0.1', port, url }, 1_000)) >= 0,
    15_000,
    100,
  );
  return {
    port,
    url: url.toString(),
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
