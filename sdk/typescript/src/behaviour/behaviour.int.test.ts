// HeaderReporting and EventPush (seed 001) from a Node agent: an Express app with agentSpecMiddleware behind the real
// sidecar; what the request recorded (across awaits) reaches the audit ring, the headers never reach the client, and
// SidecarClient's events join the same request's entry.
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { listenOnLoopback, waitFor, type ManagedProcess } from '@agentspec/e2e';
import { startSidecarProcess } from '../../../../sidecar/tests/support.js';
import {
  agentSpecMiddleware,
  confirmUser,
  currentBehaviour,
  currentRequestId,
  recordGuardrail,
  recordToolCall,
} from './middleware.js';
import { SidecarClient } from './sidecar-client.js';

const root = resolve(import.meta.dirname, '..', '..', '..', '..');
const processes: ManagedProcess[] = [];
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  for (const s of servers) s.close();
});

interface AuditEntry {
  requestId: string;
  toolsCalled?: string[];
  guardrailsInvoked?: string[];
  userConfirmed?: boolean;
  events?: unknown[];
}

describe('agentSpecMiddleware and SidecarClient behind the real sidecar', () => {
  it('records tools, guardrails and confirmation per request, across awaits, into the audit ring; events join it', async () => {
    let sidecarDiagnostics = '';
    const app = express();
    app.use(express.json());
    app.use(agentSpecMiddleware());
    app.post('/chat', async (req, res) => {
      recordGuardrail('pii-detector');
      await sleep(5); // the records follow the request across async work
      recordToolCall('plan-workout');
      if ((req.body as { confirm?: boolean }).confirm) {
        recordToolCall('delete-history');
        confirmUser();
      }
      const behaviour = currentBehaviour();
      const requestId = currentRequestId();
      // EventPush after the response: the sidecar records the request's entry when the response passes through it.
      res.on('finish', () => {
        void new SidecarClient(sidecarDiagnostics).pushEvents(
          'fitness-coach',
          [{ type: 'tool', name: 'plan-workout', success: true, latencyMs: 5 }],
          requestId,
        );
      });
      res.json({ ok: true, behaviour });
    });
    const server = createServer(app);
    servers.push(server);
    const agentUrl = await listenOnLoopback(server);
    const sidecar = await startSidecarProcess(agentUrl, {
      manifestPath: join(root, 'examples', 'fitness-coach', 'agent.yaml'),
      logDir: mkdtempSync(join(tmpdir(), 'behaviour-')),
      processes,
    });
    sidecarDiagnostics = sidecar.diagnostics;

    const post = (body: unknown) =>
      fetch(`${sidecar.proxy}/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const [plain, destructive] = await Promise.all([post({}), post({ confirm: true })]);
    for (const response of [plain, destructive]) {
      expect(response.status).toBe(200);
      expect([...response.headers.keys()].filter((h) => h.startsWith('x-agentspec-'))).toEqual([]);
    }
    const audit = await waitFor('both entries with their pushed events', async () => {
      const body = (await (await fetch(`${sidecar.diagnostics}/agentspec/audit`)).json()) as { entries: AuditEntry[] };
      return body.entries.filter((e) => e.events?.length).length === 2 ? body : undefined;
    });
    const entryOf = (response: Response) =>
      audit.entries.find((e) => e.requestId === response.headers.get('x-request-id'));
    expect(entryOf(plain)).toMatchObject({
      toolsCalled: ['plan-workout'],
      guardrailsInvoked: ['pii-detector'],
      events: [{ type: 'tool', name: 'plan-workout', success: true, latencyMs: 5 }],
    });
    expect(entryOf(plain)?.userConfirmed).not.toBe(true);
    expect(entryOf(destructive)).toMatchObject({
      toolsCalled: ['plan-workout', 'delete-history'],
      userConfirmed: true,
    });
  });

  it('SidecarClient never throws: an unreachable sidecar resolves undefined', async () => {
    expect(await new SidecarClient('http://127.0.0.1:9').pushEvents('a', [{ type: 'tool' }], 'r')).toBeUndefined();
  });
});
