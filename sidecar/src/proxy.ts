import { randomUUID } from 'node:crypto';
import {
  Agent as HttpAgent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from 'pino';
import type { AuditEntry, AuditRing } from './audit-ring.js';
import { opaInputFor, type OpaClient } from './opa.js';
import type { SidecarMetrics } from './metrics.js';

export const REQUEST_ID_HEADER = 'x-request-id';
export const GUARDRAILS_HEADER = 'x-agentspec-guardrails-invoked';
export const TOOLS_HEADER = 'x-agentspec-tools-called';
export const CONFIRMED_HEADER = 'x-agentspec-user-confirmed';
export const VIOLATIONS_HEADER = 'X-AgentSpec-OPA-Violations';

/** Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded; node sets its own framing. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export interface ProxyOptions {
  upstream: URL;
  agentName: string;
  ring: AuditRing;
  metrics: SidecarMetrics;
  logger: Logger;
  /** OPA, when configured (OPA_URL): asked about each request per opaProxyMode. */
  opa?: OpaClient;
  opaProxyMode: 'track' | 'enforce' | 'off';
}

/**
 * A header value any HTTP peer accepts: visible ASCII and spaces kept, everything else (non-ASCII, control characters)
 * percent-encoded as UTF-8. Violation names come from policies and may hold any Unicode; node refuses to send those.
 */
export function headerValue(text: string): string {
  return text.replace(/[^\x20-\x7e]|%/gu, (ch) =>
    ch === '%' ? '%25' : encodeURIComponent(ch.isWellFormed() ? ch : '\ufffd'),
  );
}

/** A request target with every query value replaced: query strings carry API keys (`?api_key=...`). */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const pairs = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=[REDACTED]`;
    });
  return `${url.slice(0, q)}?${pairs.join('&')}`;
}

const list = (value: string | string[] | undefined): string[] | undefined => {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
};

function forwardHeaders(headers: IncomingHttpHeaders, requestId: string, host: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const connectionTokens = new Set(list(headers.connection)?.map((t) => t.toLowerCase()));
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || connectionTokens.has(name)) continue;
    out[name] = value;
  }
  out['host'] = host;
  out[REQUEST_ID_HEADER] = requestId;
  return out;
}

/**
 * The proxy on PROXY_PORT: a transparent, streaming pass-through to the agent (request and response bodies,
 * chunked and SSE responses, WebSocket upgrades). Every request gets an x-request-id and an audit-ring entry. The
 * agent's X-AgentSpec-* behaviour headers are read and stripped (clients never see them); with OPA configured
 * they are evaluated, violations are reported in X-AgentSpec-OPA-Violations, and in `enforce` mode a denied
 * response is replaced by a 403 PolicyViolation. OPA unreachable: the response passes (fail open).
 */
export function createProxyServer(options: ProxyOptions): Server {
  const proxy = new SidecarProxy(options);
  const server = createServer((req, res) => proxy.request(req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => proxy.upgrade(req, socket, head));
  server.keepAliveTimeout = 65_000;
  return server;
}

/** One exchange in flight: its audit entry and how to close it. */
interface Exchange {
  entry: AuditEntry;
  res: ServerResponse;
  requestId: string;
  finish(): void;
}

class SidecarProxy {
  private readonly secure: boolean;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly send: typeof httpRequest;
  private readonly port: number;
  private readonly basePath: string;
  /** One counter child per status code, looked up once (labels are hashed on every inc otherwise). */
  private readonly byStatus = new Map<number, { inc(): void }>();

  constructor(private readonly options: ProxyOptions) {
    const { upstream } = options;
    this.secure = upstream.protocol === 'https:';
    this.agent = this.secure
      ? new HttpsAgent({ keepAlive: true, maxSockets: 256 })
      : new HttpAgent({ keepAlive: true, maxSockets: 256 });
    this.send = this.secure ? httpsRequest : httpRequest;
    this.port = Number(upstream.port || (this.secure ? 443 : 80));
    this.basePath = upstream.pathname.replace(/\/+$/, '');
  }

  private countByStatus(status: number): { inc(): void } {
    let child = this.byStatus.get(status);
    if (!child) {
      child = this.options.metrics.proxied.labels(String(status));
      this.byStatus.set(status, child);
    }
    return child;
  }

  /** Streams one request to the agent and its response back, recording it in the audit ring. */
  request(req: IncomingMessage, res: ServerResponse): void {
    const { options } = this;
    const started = performance.now();
    const requestId = (req.headers[REQUEST_ID_HEADER] as string | undefined) || randomUUID();
    const entry: AuditEntry = {
      requestId,
      at: Date.now(),
      method: req.method ?? 'GET',
      path: redactQuery(req.url ?? '/'),
      status: 0,
      durationMs: 0,
    };
    const exchange: Exchange = {
      entry,
      res,
      requestId,
      finish: () => {
        entry.durationMs = Math.round((performance.now() - started) * 1000) / 1000;
        options.ring.push(entry);
        this.countByStatus(entry.status).inc();
        options.metrics.proxyDuration.observe(entry.durationMs / 1000);
      },
    };
    const upstreamReq = this.send(
      {
        agent: this.agent,
        host: options.upstream.hostname,
        port: this.port,
        method: req.method,
        path: `${this.basePath}${req.url ?? '/'}`,
        headers: forwardHeaders(req.headers, requestId, options.upstream.host),
      },
      (upstreamRes) => this.respond(exchange, upstreamRes),
    );
    upstreamReq.on('error', (err) => this.unreachable(exchange, err));
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    req.pipe(upstreamReq);
  }

  /** The agent could not be reached (502), or failed mid-response (the client's response is cut too). */
  private unreachable({ entry, res, requestId, finish }: Exchange, err: Error): void {
    entry.error = err.message;
    if (res.headersSent) return void res.destroy(err);
    entry.status = 502;
    const body = JSON.stringify({
      error: 'BadGateway',
      message: `agent unreachable at ${this.options.upstream.origin}: ${err.message}`,
      requestId,
    });
    res.writeHead(502, { 'content-type': 'application/json', [REQUEST_ID_HEADER]: requestId }).end(body);
    finish();
  }

  /** Never an unhandled error: log, and end this exchange only. */
  private relayFailed({ entry, res, requestId, finish }: Exchange, err: unknown): void {
    this.options.logger.error({ err: (err as Error).message, requestId }, 'proxy response failed');
    entry.error = (err as Error).message;
    if (res.headersSent) return void res.destroy();
    entry.status = 502;
    res.writeHead(502, { 'content-type': 'application/json', [REQUEST_ID_HEADER]: requestId });
    res.end(JSON.stringify({ error: 'BadGateway', message: 'the sidecar could not relay the response', requestId }));
    finish();
  }

  /** The agent's response: behaviour headers read and stripped, OPA asked when it must be, then relayed. */
  private respond(exchange: Exchange, upstreamRes: IncomingMessage): void {
    const { entry, requestId } = exchange;
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(upstreamRes.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      if (name === GUARDRAILS_HEADER || name === TOOLS_HEADER || name === CONFIRMED_HEADER) continue;
      headers[name] = value;
    }
    headers[REQUEST_ID_HEADER] = requestId;
    entry.status = upstreamRes.statusCode ?? 502;
    const guardrails = list(upstreamRes.headers[GUARDRAILS_HEADER]);
    const tools = list(upstreamRes.headers[TOOLS_HEADER]);
    const confirmed = upstreamRes.headers[CONFIRMED_HEADER];
    const reported = guardrails !== undefined || tools !== undefined || confirmed !== undefined;
    if (guardrails) entry.guardrailsInvoked = guardrails;
    if (tools) entry.toolsCalled = tools;
    if (confirmed !== undefined) entry.userConfirmed = String(confirmed).toLowerCase() === 'true';

    const { opa, opaProxyMode } = this.options;
    // Enforce mode asks OPA about every response, so a policy can deny what an agent did not report (an agent that
    // sends no X-AgentSpec-* headers is judged on empty lists); track mode only records what was reported.
    if (!opa || opaProxyMode === 'off' || (!reported && opaProxyMode !== 'enforce')) {
      try {
        this.pass(exchange, upstreamRes, headers);
      } catch (err) {
        this.relayFailed(exchange, err);
      }
      return;
    }
    // Hold the response (backpressure keeps the body in the socket) until OPA has answered.
    void opa
      .evaluate(opaInputFor(this.options.agentName, entry))
      .then((violations) => this.decide(exchange, upstreamRes, headers, violations))
      .catch((err: unknown) => this.relayFailed(exchange, err));
  }

  /** Relays the agent's response as it is (headers already filtered). */
  private pass({ entry, res, finish }: Exchange, upstreamRes: IncomingMessage, headers: OutgoingHttpHeaders): void {
    try {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, headers);
    } catch (err) {
      // A header node refuses to send: the client gets a 502, the agent's body is drained.
      upstreamRes.resume();
      throw err;
    }
    upstreamRes.pipe(res);
    // The agent's response ended early (connection closed mid-body): the client's must end too, not hang.
    upstreamRes.once('error', (err) => {
      entry.error = err.message;
      res.destroy(err);
    });
    res.on('finish', finish);
  }

  /** OPA answered: pass (allowed, unreachable, or track mode) or replace the response with the 403 (enforce). */
  private decide(
    exchange: Exchange,
    upstreamRes: IncomingMessage,
    headers: OutgoingHttpHeaders,
    violations: string[] | undefined,
  ): void {
    const { entry, res, requestId, finish } = exchange;
    this.options.metrics.opaEvaluations.inc({
      result: violations === undefined ? 'unreachable' : violations.length ? 'violations' : 'allowed',
    });
    if (violations === undefined) return this.pass(exchange, upstreamRes, headers); // fail open
    entry.opaViolations = violations;
    if (violations.length === 0) return this.pass(exchange, upstreamRes, headers);
    headers[VIOLATIONS_HEADER] = headerValue(violations.join(','));
    if (this.options.opaProxyMode !== 'enforce') return this.pass(exchange, upstreamRes, headers);
    upstreamRes.resume(); // the agent processed the request; only the client's view is replaced
    entry.status = 403;
    entry.blocked = true;
    const body = JSON.stringify({
      error: 'PolicyViolation',
      blocked: true,
      violations,
      message: `Request blocked by OPA policy: ${violations.join(', ')}`,
    });
    res.writeHead(403, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      [VIOLATIONS_HEADER]: headerValue(violations.join(',')),
      [REQUEST_ID_HEADER]: requestId,
    });
    res.end(body);
    finish();
  }

  /** WebSocket (and any other) upgrades: the request head is replayed to the agent, then bytes flow both ways. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const { upstream } = this.options;
    const requestId = (req.headers[REQUEST_ID_HEADER] as string | undefined) || randomUUID();
    const started = performance.now();
    const target = this.secure
      ? tlsConnect({ host: upstream.hostname, port: this.port, servername: upstream.hostname })
      : netConnect({ host: upstream.hostname, port: this.port });
    const fail = (): void => {
      socket.destroy();
      target.destroy();
    };
    target.once(this.secure ? 'secureConnect' : 'connect', () => {
      const lines = [`${req.method} ${this.basePath}${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i] ?? '';
        if (name.toLowerCase() === 'host' || name.toLowerCase() === REQUEST_ID_HEADER) continue;
        lines.push(`${name}: ${req.rawHeaders[i + 1] ?? ''}`);
      }
      lines.push(`Host: ${upstream.host}`, `X-Request-Id: ${requestId}`);
      target.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) target.write(head);
      socket.pipe(target).pipe(socket);
      this.options.ring.push({
        requestId,
        at: Date.now(),
        method: req.method ?? 'GET',
        path: redactQuery(req.url ?? '/'),
        status: 101,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      });
    });
    target.on('error', fail);
    socket.on('error', fail);
    target.on('close', () => socket.destroy());
    socket.on('close', () => target.destroy());
  }
}
