import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type pg from 'pg';

export interface ControlPlaneMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  heartbeats: Counter<'result'>;
  registrations: Counter<'result'>;
  /** 1 in the replica that runs the reaper. */
  reaperLeader: Gauge;
  /** Connected-mode WebSocket frames by type and outcome (never per instance). */
  connectMessages: Counter<'type'>;
  /** Connected-mode WebSockets open on this replica. */
  connections: Gauge;
  /** Time for a probe routed to the replica holding the socket and back. */
  probeRouting: Histogram;
}

/**
 * prom-client metrics: request latency by route and status, heartbeats by result, pool, process, event-loop lag, the
 * reaper's leadership and, read when scraped, the open event streams.
 */
export function createMetrics(pool?: pg.Pool, eventSubscribers: () => number = () => 0): ControlPlaneMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const httpDuration = new Histogram({
    name: 'agentspec_http_request_duration_seconds',
    help: 'HTTP request latency by route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const heartbeats = new Counter({
    name: 'agentspec_heartbeats_total',
    help: 'Heartbeats by result (accepted, unauthorized, rate_limited, invalid, too_large, error).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const registrations = new Counter({
    name: 'agentspec_registrations_total',
    help: 'Registrations by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  if (pool) {
    new Gauge({
      name: 'agentspec_db_pool_connections',
      help: 'Database pool connections by state.',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
  }
  const reaperLeader = new Gauge({
    name: 'agentspec_reaper_leader',
    help: '1 in the one replica that holds the reaper lock (marks silent instances offline), else 0.',
    registers: [registry],
  });
  new Gauge({
    name: 'agentspec_event_subscribers',
    help: 'GET /api/v1/events streams open on this replica.',
    registers: [registry],
    collect() {
      this.set(eventSubscribers());
    },
  });
  const connectMessages = new Counter({
    name: 'agentspec_connect_messages_total',
    help: 'Connected-mode WebSocket upgrades and frames by type and outcome (connect, refused, heartbeat_written, heartbeat_rate_limited, ping, invalid, ...).',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const connections = new Gauge({
    name: 'agentspec_ws_connections',
    help: 'Connected-mode WebSockets (GET /api/v1/connect) open on this replica.',
    registers: [registry],
  });
  const probeRouting = new Histogram({
    name: 'agentspec_probe_routing_seconds',
    help: 'Probes routed through PostgreSQL to the replica holding the socket: time until the answer (or the deadline).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    registry,
    httpDuration,
    heartbeats,
    registrations,
    reaperLeader,
    connectMessages,
    connections,
    probeRouting,
  };
}
