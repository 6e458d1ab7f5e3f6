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
import { evaluateOpa, opaInputFor } from './opa.js';
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
  opaUrl?: string;
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
  const { upstream } = options;
  const secure = upstream.protocol === 'https:';
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: 256 })
    : new HttpAgent({ keepAlive: true, maxSockets: 256 });
  const send = secure ? httpsRequest : httpRequest;
  const port = Number(upstream.port || (secure ? 443 : 80));
  const basePath = upstream.pathname.replace(/\/+$/, '');

  // One counter child per status code, looked up once (labels are hashed on every inc otherwise).
  const byStatus = new Map<number, { inc(): void }>();
  const countByStatus = (status: number): { inc(): void } => {
    let child = byStatus.get(status);
    if (!child) {
      child = options.metrics.proxied.labels(String(status));
      byStatus.set(status, child);
    }
    return child;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
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
    const finish = (): void => {
      entry.durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      options.ring.push(entry);
      countByStatus(entry.status).inc();
      options.metrics.proxyDuration.observe(entry.durationMs / 1000);
    };

    const upstreamReq = send(
      {
        agent,
        host: upstream.hostname,
        port,
        method: req.method,
        path: `${basePath}${req.url ?? '/'}`,
        headers: forwardHeaders(req.headers, requestId, upstream.host),
      },
      (upstreamRes) => {
        // Never an unhandled error: log, and end this exchange only.
        const relayFailed = (err: unknown): void => {
          options.logger.error({ err: (err as Error).message, requestId }, 'proxy response failed');
          entry.error = (err as Error).message;
          if (res.headersSent) return void res.destroy();
          entry.status = 502;
          res.writeHead(502, { 'content-type': 'application/json', [REQUEST_ID_HEADER]: requestId });
          res.end(
            JSON.stringify({ error: 'BadGateway', message: 'the sidecar could not relay the response', requestId }),
          );
          finish();
        };
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

        const pass = (): void => {
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
        };
        // Enforce mode asks OPA about every response, so a policy can deny what an agent did not report (an agent that
        // sends no X-AgentSpec-* headers is judged on empty lists); track mode only records what was reported.
        if (!options.opaUrl || options.opaProxyMode === 'off' || (!reported && options.opaProxyMode !== 'enforce')) {
          try {
            pass();
          } catch (err) {
            relayFailed(err);
          }
          return;
        }

        // Hold the response (backpressure keeps the body in the socket) until OPA has answered.
        void evaluateOpa(options.opaUrl, opaInputFor(options.agentName, entry))
          .then((violations) => {
            options.metrics.opaEvaluations.inc({
              result: violations === undefined ? 'unreachable' : violations.length ? 'violations' : 'allowed',
            });
            if (violations === undefined) return pass(); // fail open
            entry.opaViolations = violations;
            if (violations.length === 0) return pass();
            headers[VIOLATIONS_HEADER] = headerValue(violations.join(','));
            if (options.opaProxyMode !== 'enforce') return pass();
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
          })
          .catch(relayFailed);
      },
    );
    upstreamReq.on('error', (err) => {
      entry.error = err.message;
      if (!res.headersSent) {
        entry.status = 502;
        const body = JSON.stringify({
          error: 'BadGateway',
          message: `agent unreachable at ${upstream.origin}: ${err.message}`,
          requestId,
        });
        res.writeHead(502, { 'content-type': 'application/json', [REQUEST_ID_HEADER]: requestId }).end(body);
        finish();
      } else {
        res.destroy(err);
      }
    });
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    req.pipe(upstreamReq);
  });

  // WebSocket (and any other) upgrades: the request head is replayed to the agent, then bytes flow both ways.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const requestId = (req.headers[REQUEST_ID_HEADER] as string | undefined) || randomUUID();
    const started = performance.now();
    const target = secure
      ? tlsConnect({ host: upstream.hostname, port, servername: upstream.hostname })
      : netConnect({ host: upstream.hostname, port });
    const fail = (): void => {
      socket.destroy();
      target.destroy();
    };
    target.once(secure ? 'secureConnect' : 'connect', () => {
      const lines = [`${req.method} ${basePath}${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i] ?? '';
        if (name.toLowerCase() === 'host' || name.toLowerCase() === REQUEST_ID_HEADER) continue;
        lines.push(`${name}: ${req.rawHeaders[i + 1] ?? ''}`);
      }
      lines.push(`Host: ${upstream.host}`, `X-Request-Id: ${requestId}`);
      target.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) target.write(head);
      socket.pipe(target).pipe(socket);
      options.ring.push({
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
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
