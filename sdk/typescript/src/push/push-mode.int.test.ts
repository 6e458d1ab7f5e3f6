import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { listenOnLoopback, waitFor } from '@agentspec/e2e';
import { parseManifest } from '../manifest/load.js';
import { isPushModeActive, startPushMode, stopPushMode } from './push-mode.js';

interface Received {
  authorization: string | undefined;
  body: { health: { agentName: string; summary: unknown }; gap: { score: number; grade: string } };
}

let server: Server;
let url = '';
const received: Received[] = [];
let answers: number[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    // Push mode (transport auto) also tries connected mode's WebSocket: this server has none.
    if (req.method !== 'POST') return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        authorization: req.headers.authorization,
        body: JSON.parse(Buffer.concat(chunks).toString()) as Received['body'],
      });
      const status = answers.shift() ?? 204;
      res.writeHead(status, status === 503 ? { 'retry-after': '0' } : {}).end();
    });
  });
  url = `${await listenOnLoopback(server)}/api/v1/heartbeat`;
});
afterAll(() => void server.close());
afterEach(() => {
  stopPushMode();
  received.length = 0;
  answers = [];
  vi.restoreAllMocks();
});

const { manifest } = parseManifest({
  apiVersion: 'agentspec.io/v1',
  kind: 'AgentSpec',
  metadata: { name: 'pusher', version: '1.0.0', description: 'Pushes.' },
  spec: { model: { provider: 'local', id: 'tiny' }, prompts: { system: 's' } },
});

describe('push mode', () => {
  it('pushes {health, gap} with the Bearer key at once and then on the interval; start is idempotent', async () => {
    startPushMode({ manifest, url, apiKey: 'push-key-123', intervalMs: 100 });
    startPushMode({ manifest, url, apiKey: 'other', intervalMs: 10 });
    expect(isPushModeActive()).toBe(true);
    await waitFor('the immediate push', async () => received.length >= 1, { timeoutMs: 2_000, intervalMs: 5 });
    expect(received[0]?.authorization).toBe('Bearer push-key-123');
    expect(received[0]?.body.health.agentName).toBe('pusher');
    expect(received[0]?.body.gap).toMatchObject({ score: expect.any(Number), grade: expect.any(String) });
    await waitFor('pushes on the interval', async () => received.length >= 3, { timeoutMs: 3_000, intervalMs: 10 });
    expect(received.every((r) => r.authorization === 'Bearer push-key-123')).toBe(true);
    stopPushMode();
    expect(isPushModeActive()).toBe(false);
    const count = received.length;
    await new Promise((r) => setTimeout(r, 250));
    expect(received.length).toBe(count);
  });

  it('retries a 5xx answer', async () => {
    answers = [503, 204];
    startPushMode({ manifest, url, apiKey: 'k', intervalMs: 60_000, backoff: { baseMs: 1 } });
    await waitFor('the retried push', async () => received.length >= 2, { timeoutMs: 2_000, intervalMs: 5 });
    expect(received).toHaveLength(2);
  });

  it('does not retry a 4xx and logs it to console.error with the key redacted', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    answers = [401];
    startPushMode({ manifest, url: `${url}?key=secret-key-999`, apiKey: 'secret-key-999', intervalMs: 60_000 });
    await waitFor('the error log', async () => errors.length >= 1, { timeoutMs: 2_000, intervalMs: 5 });
    expect(received).toHaveLength(1);
    expect(errors[0]).toContain('rejected: HTTP 401');
    expect(errors[0]).not.toContain('secret-key-999');
  });

  it("seed 000 step 3 (intervalMs): says at start when the interval is shorter than the control plane's default minimum (10 s)", async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    startPushMode({ manifest, url, apiKey: 'k', intervalMs: 5_000 });
    expect(errors[0]).toMatch(/push interval 5 s is shorter than the control plane's default minimum of 10 s/);
    stopPushMode();
    errors.length = 0;
    startPushMode({ manifest, url, apiKey: 'k', intervalMs: 10_000 });
    expect(errors.filter((e) => e.includes('push interval'))).toEqual([]);
  });
});
