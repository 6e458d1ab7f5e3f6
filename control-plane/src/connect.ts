import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { sql } from 'kysely';
import { findJsonProblem, formatPath } from '@agentspec/sdk';
import { ApiError } from './api-error.js';
import { Batcher } from './batch.js';
import type { AppContext } from './app-context.js';
import { recordHeartbeat } from './heartbeats.js';
import { authenticateInstance } from './routes/heartbeat.js';
import { hashTokenId, type TokenClaims } from './tokens.js';

/** Seed 003's connected mode: the agent dials out and keeps this WebSocket open. */
export const CONNECT_PATH = '/api/v1/connect';
/** A frame carries at most a heartbeat body (64 KiB) and its envelope. */
export const MAX_FRAME_BYTES = 64 * 1024 + 1024;

/**
 * Close codes (4000–4999 are the application's): the token was revoked or expired, or a newer connection took the
 * instance.
 */
export const CLOSE_REVOKED = 4401;
export const CLOSE_REPLACED = 4409;

/** Frames the agent sends. */
type UpFrame =
  | { type: 'heartbeat'; id: string; body: unknown }
  | { type: 'ping'; id: string }
  | { type: 'probe_result'; id: string; report: unknown };

interface InstanceRow {
  id: string;
  instance_id: string;
  deployment_mode: string;
  token_id_hash: string;
  namespace: string;
  name: string;
}

interface Connection {
  ws: WebSocket;
  claims: TokenClaims;
  alive: boolean;
  /** Probes sent down this socket, by frame id. */
  probes: Map<string, { resolve: (report: unknown) => void; reject: (err: Error) => void }>;
  namespace: string;
  name: string;
  instanceId: string;
}

export interface ConnectServerOptions {
  /** Server pings this often; a connection that missed one pong is closed. */
  pingIntervalMs: number;
}

/** agentspec_heartbeats_total's result label for each outcome (as the HTTP route counts them). */
const HEARTBEAT_RESULTS = {
  written: 'accepted',
  revoked: 'unauthorized',
  'rate-limited': 'rate_limited',
  invalid: 'invalid',
} as const;

const send = (ws: WebSocket, frame: Record<string, unknown>): void => {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
};

/** Answers an upgrade that is refused with a plain HTTP response, as the HTTP API would. */
function refuse(socket: Duplex, error: ApiError): void {
  const body = JSON.stringify(error.toJSON());
  socket.end(
    `HTTP/1.1 ${error.status} ${error.error}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * `GET /api/v1/connect` upgraded to a WebSocket authenticated by the instance's JWT (the Authorization header, as
 * for HTTP heartbeats; never a URL parameter, which proxies log). Up: `heartbeat` (the body and rules of
 * `POST /api/v1/heartbeat`, answered with `ack` or an `error` frame {status, error, message, field?} as the HTTP
 * answer would be), `ping` (→ `pong`). The server pings at
 * the WebSocket level and closes a connection that missed a pong. One connection per instance: a newer one replaces
 * the older. The instance's transport reads `ws` while connected; `agent.connected` / `agent.disconnected` are
 * emitted.
 */
export class ConnectServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly connections = new Map<string, Connection>();
  private readonly timer: NodeJS.Timeout;
  private probes = 0;
  /** Upgrades and disconnections come in storms (a restart, a rollout): their reads and writes go in batches. */
  private readonly lookups = new Batcher<string, InstanceRow | undefined>((pks) => this.lookup(pks));
  private readonly transports = new Batcher<{ pk: string; transport: string }, void>((changes) =>
    this.writeTransports(changes),
  );

  constructor(
    private readonly ctx: AppContext,
    options: ConnectServerOptions,
  ) {
    this.timer = setInterval(() => this.sweep(), options.pingIntervalMs);
    this.timer.unref();
  }

  get size(): number {
    return this.connections.size;
  }

  /** Whether this replica holds the instance's socket. */
  holds(instancePk: string): boolean {
    return this.connections.has(instancePk);
  }

  /**
   * Asks the connected instance for a live report now (`probe` down, `probe_result` up). Rejects after `timeoutMs`
   * ("timeout") or when this replica holds no socket of it ("not connected here").
   */
  probe(instancePk: string, timeoutMs: number): Promise<unknown> {
    const connection = this.connections.get(instancePk);
    if (!connection) return Promise.reject(new Error('not connected here'));
    const id = `probe-${++this.probes}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        connection.probes.delete(id);
        reject(new Error('timeout'));
      }, timeoutMs);
      connection.probes.set(id, {
        resolve: (report) => {
          clearTimeout(timer);
          resolve(report);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      send(connection.ws, { type: 'probe', id });
    });
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head));
  }

  /**
   * Closes every connection (going away: clients reconnect to another replica). Their instances are marked
   * disconnected first, in one statement, before any client can reconnect elsewhere (a write after that could
   * overwrite the other replica's `ws`); the sockets' own close handlers then have nothing left to write.
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const held = [...this.connections.values()];
    this.connections.clear();
    this.ctx.metrics.connections.set(0);
    // Bounded: a database that does not answer must not hold the shutdown (the reaper judges liveness anyway).
    await Promise.race([
      Promise.all(held.map((c) => this.setTransport(c, 'callback', 'agent.disconnected'))),
      new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
    ]);
    for (const connection of held) connection.ws.close(1001, 'control plane shutting down');
    this.wss.close();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://control-plane').pathname;
    if (path !== CONNECT_PATH) return refuse(socket, new ApiError(404, 'NotFound', `no WebSocket at ${path}`));
    const admitted = await this.admit(req.headers.authorization);
    if (admitted instanceof ApiError) {
      this.ctx.metrics.connectMessages.inc({ type: 'refused' });
      return refuse(socket, admitted);
    }
    const { claims, instance } = admitted;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const connection: Connection = {
        ws,
        claims,
        alive: true,
        probes: new Map(),
        namespace: instance.namespace,
        name: instance.name,
        instanceId: instance.instance_id,
      };
      this.accept(connection);
    });
  }

  /** The instance a connected-mode upgrade speaks for, or why it is refused. */
  private async admit(
    authorization: string | undefined,
  ): Promise<{ claims: TokenClaims; instance: InstanceRow } | ApiError> {
    let claims: TokenClaims;
    try {
      claims = await authenticateInstance(this.ctx, authorization);
    } catch (err) {
      return err instanceof ApiError ? err : new ApiError(401, 'Unauthorized', 'invalid token');
    }
    let instance: InstanceRow | undefined;
    try {
      instance = await this.lookups.submit(claims.instancePk);
    } catch {
      return new ApiError(503, 'DatabaseUnavailable', 'the database is unavailable; retry later');
    }
    // Gone, or registered again since this token was issued: the token was revoked.
    if (!instance || instance.token_id_hash !== hashTokenId(claims.jti)) {
      return new ApiError(401, 'Unauthorized', 'token revoked: register again');
    }
    if (instance.deployment_mode !== 'connected') {
      return new ApiError(
        409,
        'DEPLOYMENT_MODE_MISMATCH',
        `instance ${instance.instance_id} is registered as ${instance.deployment_mode}: it is called at its publicUrl ` +
          'and keeps no socket; register a connected instance under a new instanceId',
      );
    }
    return { claims, instance };
  }

  private accept(connection: Connection): void {
    const { ws, claims } = connection;
    const previous = this.connections.get(claims.instancePk);
    this.connections.set(claims.instancePk, connection);
    this.ctx.metrics.connectMessages.inc({ type: 'connect' });
    if (previous) previous.ws.close(CLOSE_REPLACED, 'replaced by a newer connection of this instance');
    else void this.setTransport(connection, 'ws', 'agent.connected');
    this.ctx.metrics.connections.set(this.connections.size);
    ws.on('pong', () => (connection.alive = true));
    ws.on('message', (data, isBinary) => void this.onMessage(connection, data, isBinary));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      for (const probe of connection.probes.values()) probe.reject(new Error('disconnected'));
      connection.probes.clear();
      if (this.connections.get(claims.instancePk) !== connection) return; // replaced
      this.connections.delete(claims.instancePk);
      this.ctx.metrics.connections.set(this.connections.size);
      void this.setTransport(connection, 'callback', 'agent.disconnected');
    });
  }

  private async setTransport(
    connection: Connection,
    transport: 'ws' | 'callback',
    event: 'agent.connected' | 'agent.disconnected',
  ) {
    try {
      await this.transports.submit({ pk: connection.claims.instancePk, transport });
      this.ctx.events.append({
        type: event,
        namespace: connection.namespace,
        name: connection.name,
        instanceId: connection.instanceId,
        transport: 'ws',
      });
    } catch (err) {
      this.ctx.logger.warn({ err: (err as Error).message }, 'could not record the connection state');
    }
  }

  /** The instances of these primary keys, in order (undefined for one that is gone). */
  private async lookup(pks: string[]): Promise<(InstanceRow | undefined)[]> {
    const rows = await this.ctx.database.db
      .selectFrom('instances as i')
      .innerJoin('agents as a', 'a.id', 'i.agent_id')
      .select(['i.id', 'i.instance_id', 'i.deployment_mode', 'i.token_id_hash', 'a.namespace', 'a.name'])
      .where('i.id', 'in', [...new Set(pks)])
      .execute();
    const byId = new Map(rows.map((row) => [String(row.id), row]));
    return pks.map((pk) => byId.get(pk));
  }

  /** One statement for a batch of transport changes; the last change of an instance wins. */
  private async writeTransports(changes: { pk: string; transport: string }[]): Promise<void[]> {
    const last = new Map(changes.map((c) => [c.pk, c.transport]));
    await sql`
      update instances i set transport = t.transport
      from unnest(${[...last.keys()]}::uuid[], ${[...last.values()]}::text[]) as t(id, transport)
      where i.id = t.id and i.transport is distinct from t.transport`.execute(this.ctx.database.db);
    return changes.map(() => undefined);
  }

  private async onMessage(connection: Connection, data: RawData, isBinary: boolean): Promise<void> {
    const { ws } = connection;
    let frame: UpFrame;
    try {
      if (isBinary) throw new Error('frames are JSON text');
      frame = JSON.parse(data.toString()) as UpFrame;
      if (typeof frame !== 'object' || frame === null || typeof frame.type !== 'string') {
        throw new Error('a frame is an object with a "type"');
      }
    } catch (err) {
      this.ctx.metrics.connectMessages.inc({ type: 'invalid' });
      return send(ws, { type: 'error', status: 400, error: 'InvalidFrame', message: (err as Error).message });
    }
    const id = typeof frame.id === 'string' ? frame.id.slice(0, 128) : undefined;
    switch (frame.type) {
      case 'ping':
        this.ctx.metrics.connectMessages.inc({ type: 'ping' });
        return send(ws, { type: 'pong', id });
      case 'heartbeat':
        return this.onHeartbeat(connection, id, frame.body);
      case 'probe_result': {
        const waiting = id === undefined ? undefined : connection.probes.get(id);
        this.ctx.metrics.connectMessages.inc({ type: waiting ? 'probe_result' : 'invalid' });
        if (!waiting || id === undefined) {
          return send(ws, {
            type: 'error',
            id,
            status: 400,
            error: 'InvalidFrame',
            field: 'id',
            message: 'id: no probe pending with this id',
          });
        }
        connection.probes.delete(id);
        return waiting.resolve(frame.report);
      }
      default:
        this.ctx.metrics.connectMessages.inc({ type: 'invalid' });
        return send(ws, {
          type: 'error',
          id,
          status: 400,
          error: 'InvalidFrame',
          field: 'type',
          message: 'type: unknown frame type (heartbeat, ping, probe_result)',
        });
    }
  }

  private async onHeartbeat(connection: Connection, id: string | undefined, body: unknown): Promise<void> {
    const { ws, claims } = connection;
    // What HTTP refuses before any route (NUL, lone surrogates, nesting too deep) is an invalid body here too.
    const problem = findJsonProblem(body);
    let outcome: Awaited<ReturnType<typeof recordHeartbeat>>;
    if (problem) {
      const field = `body${problem.path.length ? `.${formatPath(problem.path)}` : ''}`;
      outcome = { result: 'invalid', error: new ApiError(400, 'InvalidBody', `${field}: ${problem.message}`, field) };
    } else {
      try {
        outcome = await recordHeartbeat(this.ctx, claims, body);
      } catch {
        this.ctx.metrics.connectMessages.inc({ type: 'heartbeat_error' });
        this.ctx.metrics.heartbeats.inc({ result: 'error' });
        return send(ws, {
          type: 'error',
          id,
          status: 503,
          error: 'Unavailable',
          message: 'heartbeat not stored: retry',
        });
      }
    }
    this.ctx.metrics.connectMessages.inc({ type: `heartbeat_${outcome.result.replace('-', '_')}` });
    // Heartbeats by result count every heartbeat, whichever transport carried it.
    this.ctx.metrics.heartbeats.inc({ result: HEARTBEAT_RESULTS[outcome.result] });
    switch (outcome.result) {
      case 'written':
        return send(ws, { type: 'ack', id });
      case 'invalid': {
        const error =
          outcome.error instanceof ApiError ? outcome.error : new ApiError(400, 'InvalidBody', 'invalid body');
        return send(ws, { type: 'error', id, ...error.toJSON(), status: error.status });
      }
      case 'rate-limited':
        return send(ws, {
          type: 'error',
          id,
          status: 429,
          error: 'TooManyHeartbeats',
          message: `heartbeats are limited to one every ${this.ctx.config.minHeartbeatIntervalSeconds} s`,
          retryAfterSeconds: outcome.retryAfterSeconds,
        });
      case 'revoked':
        send(ws, { type: 'error', id, status: 401, error: 'Unauthorized', message: 'token revoked: register again' });
        ws.close(CLOSE_REVOKED, 'token revoked: register again');
    }
  }

  /**
   * Closes connections that missed the last ping's pong, and those whose token expired (it was checked once, at the
   * upgrade: a socket lives no longer than its token); pings the others.
   */
  private sweep(): void {
    const now = Date.now() / 1000;
    for (const connection of this.connections.values()) {
      const expiresAt = connection.claims.expiresAt;
      if (expiresAt !== undefined && expiresAt <= now) {
        connection.ws.close(CLOSE_REVOKED, 'token expired: refresh it or register again');
        continue;
      }
      if (!connection.alive) {
        connection.ws.terminate();
        continue;
      }
      connection.alive = false;
      connection.ws.ping();
    }
  }
}
