// The sidecar (a real process) between a hostile agent and a hostile OPA: it answers every exchange, never exits,
// keeps its memory bounded and never records a query string's secrets.
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, listenOnLoopback, recordFigures, type ManagedProcess } from '@agentspec/e2e';
import { MAX_EVENTS_BODY_BYTES, MAX_EVENTS_PER_ENTRY } from './events-route.js';
import { startSidecarProcess } from '../tests/support.js';

const manifestPath = resolve(import.meta.dirname, '..', 'tests', 'fixtures', 'agent.yaml');
const logDir = mkdtempSync(join(tmpdir(), 'sidecar-hostile-'));
const processes: ManagedProcess[] = [];
const servers: (Server | TcpServer)[] = [];
let cases = 0;

/** What the hostile OPA answers next, and how often it was asked. */
const opa = { asked: 0, answer: (_res: ServerResponse): void => undefined };

afterAll(async () => {
  const crashes = processes.filter((p) => !p.running).length;
  recordFigures('hostile-input', { suite: 'sidecar: hostile agent and OPA', cases, 'sidecar exits': crashes });
  await Promise.all(processes.map((p) => p.stop()));
  for (const server of servers) server.close();
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  return listenOnLoopback(server);
}

const startSidecar = (upstream: string, env: NodeJS.ProcessEnv) =>
  startSidecarProcess(upstream, { manifestPath, logDir, processes, env });

describe('sidecar with a hostile OPA', () => {
  let agent = '';
  let opaUrl = '';
  beforeAll(async () => {
    agent = await serve((req, res) => {
      const tools = new URL(req.url ?? '/', 'http://x').searchParams.get('tools');
      res.writeHead(200, { 'content-type': 'text/plain', ...(tools ? { 'x-agentspec-tools-called': tools } : {}) });
      res.end('ok');
    });
    opaUrl = await serve((req, res) => {
      opa.asked++;
      req.resume();
      req.on('end', () => opa.answer(res));
    });
  });

  const answerWith = (status: number, body: string): void => {
    opa.answer = (res) => res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  };

  it.each(['track', 'enforce'])(
    '%s: a violation name with any Unicode reaches the client percent-encoded; the sidecar lives',
    async (mode) => {
      const sidecar = await startSidecar(agent, { OPA_URL: opaUrl, OPA_PROXY_MODE: mode });
      answerWith(200, JSON.stringify({ result: ['web_search requires confirmation — see policy', 'ctl\u0001\ud800'] }));
      const response = await fetch(`${sidecar.proxy}/x?tools=web_search`);
      cases++;
      expect(response.status).toBe(mode === 'enforce' ? 403 : 200);
      const header = response.headers.get('x-agentspec-opa-violations') ?? '';
      expect(decodeURIComponent(header)).toBe('ctl\u0001\ufffd,web_search requires confirmation — see policy');
      expect((await fetch(`${sidecar.diagnostics}/agentspec/health/live`)).status).toBe(200);
      expect(sidecar.process.running).toBe(true);
    },
  );

  it('fails open, in enforce too, when OPA answers a non-array, an error, nonsense or nothing in time', async () => {
    const sidecar = await startSidecar(agent, { OPA_URL: opaUrl, OPA_PROXY_MODE: 'enforce' });
    const answers: ((res: ServerResponse) => void)[] = [
      (res) => res.writeHead(200).end('{"result":{"deny":"yes"}}'),
      (res) => res.writeHead(200).end('{"result":"deny"}'),
      (res) => res.writeHead(500).end('{"code":"internal_error"}'),
      (res) => res.writeHead(200).end('not json at all'),
      (res) => res.destroy(),
      () => undefined, // never answers: the sidecar's 2 s timeout decides
    ];
    for (const answer of answers) {
      opa.answer = answer;
      const response = await fetch(`${sidecar.proxy}/x?tools=web_search`);
      cases++;
      expect(response.status).toBe(200);
      expect(response.headers.get('x-agentspec-opa-violations')).toBeNull();
      expect(await response.text()).toBe('ok');
    }
    const metrics = await (await fetch(`${sidecar.diagnostics}/metrics`)).text();
    expect(metrics).toMatch(/agentspec_sidecar_opa_evaluations_total\{result="unreachable"\} 6/);
  });

  it('enforce asks OPA about responses that carry no behaviour headers; track does not', async () => {
    answerWith(200, '{"result":["guardrail_not_invoked"]}');
    const enforce = await startSidecar(agent, { OPA_URL: opaUrl, OPA_PROXY_MODE: 'enforce' });
    const before = opa.asked;
    const denied = await fetch(`${enforce.proxy}/plain`);
    cases++;
    expect(denied.status).toBe(403);
    expect(opa.asked).toBe(before + 1);
    const track = await startSidecar(agent, { OPA_URL: opaUrl, OPA_PROXY_MODE: 'track' });
    const passed = await fetch(`${track.proxy}/plain`);
    cases++;
    expect(passed.status).toBe(200);
    expect(opa.asked).toBe(before + 1);
  });
});

describe('sidecar with a hostile agent and hostile EventPush clients', () => {
  let sidecar: Awaited<ReturnType<typeof startSidecar>>;
  let rawAgent: TcpServer;
  beforeAll(async () => {
    // An "agent" that answers each path with different broken HTTP.
    rawAgent = createTcpServer((socket) => {
      socket.once('data', (data) => {
        const path = /^[A-Z]+ (\S+)/.exec(data.toString('latin1'))?.[1] ?? '/';
        if (path.startsWith('/garbage')) socket.end('this is not HTTP\r\n\r\n');
        else if (path.startsWith('/cut')) socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort');
        else if (path.startsWith('/obs-text'))
          socket.end('HTTP/1.1 200 OK\r\nx-odd: caf\xe9\r\ncontent-length: 2\r\n\r\nok', 'latin1');
        else if (path.startsWith('/many-headers')) {
          const headers = Array.from({ length: 500 }, (_, i) => `x-h${i}: ${'v'.repeat(100)}`).join('\r\n');
          socket.end(`HTTP/1.1 200 OK\r\n${headers}\r\ncontent-length: 2\r\n\r\nok`);
        } else socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
      });
      socket.on('error', () => undefined);
    });
    servers.push(rawAgent);
    const port = await freePort();
    await new Promise<void>((r) => rawAgent.listen(port, '127.0.0.1', () => r()));
    sidecar = await startSidecar(`http://127.0.0.1:${port}`, {});
  });

  it('answers 502 for broken upstream HTTP and passes what HTTP allows; it never exits', async () => {
    const garbage = await fetch(`${sidecar.proxy}/garbage`);
    expect(garbage.status).toBe(502);
    // A body cut short: the client sees the stream end early (or an error), never a hung request.
    await fetch(`${sidecar.proxy}/cut`)
      .then((r) => r.text())
      .catch(() => 'cut');
    const odd = await fetch(`${sidecar.proxy}/obs-text`);
    expect(odd.status).toBe(200);
    const many = await fetch(`${sidecar.proxy}/many-headers`);
    expect([200, 502]).toContain(many.status);
    cases += 4;
    expect((await fetch(`${sidecar.proxy}/fine`)).status).toBe(200);
    expect(sidecar.process.running).toBe(true);
  });

  it('records paths with their query values redacted', async () => {
    const response = await fetch(`${sidecar.proxy}/fine?api_key=sk-live-123&q=hello&flag`);
    const id = response.headers.get('x-request-id');
    const audit = (await (await fetch(`${sidecar.diagnostics}/agentspec/audit?limit=5`)).json()) as {
      entries: { requestId: string; path: string }[];
    };
    cases++;
    const entry = audit.entries.find((e) => e.requestId === id);
    expect(entry?.path).toBe('/fine?api_key=[REDACTED]&q=[REDACTED]&flag');
    expect(JSON.stringify(audit)).not.toContain('sk-live-123');
  });

  it('bounds EventPush: body size, events per request, NUL and nesting are refused with a named field', async () => {
    const requestId = (await fetch(`${sidecar.proxy}/fine`)).headers.get('x-request-id')!;
    const push = (body: string) =>
      fetch(`${sidecar.diagnostics}/agentspec/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const big = await push(
      JSON.stringify({ requestId, events: [{ type: 'note', text: 'x'.repeat(MAX_EVENTS_BODY_BYTES) }] }),
    );
    expect(big.status).toBe(413);
    const nul = await push(JSON.stringify({ requestId, events: [{ type: 'tool', name: 'a\u0000' }] }));
    expect(nul.status).toBe(400);
    expect(((await nul.json()) as { field: string }).field).toBe('events[0].name');
    let deep = '1';
    for (let i = 0; i < 5_000; i++) deep = `[${deep}]`;
    expect((await push(`{"requestId":"${requestId}","events":[${deep}]}`)).status).toBe(400);
    const batch = JSON.stringify({
      requestId,
      events: Array.from({ length: 64 }, (_, i) => ({ type: 'tool', name: `t${i}` })),
    });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await push(batch)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 413, 413]);
    cases += 9;
    const audit = await fetch(`${sidecar.diagnostics}/agentspec/audit?limit=1`);
    const text = await audit.text();
    const entry = (JSON.parse(text) as { entries: { events?: unknown[] }[] }).entries[0];
    expect(entry?.events).toHaveLength(MAX_EVENTS_PER_ENTRY);
    expect(text.length).toBeLessThan(64 * 1024);
    expect(sidecar.process.running).toBe(true);
  });
});
