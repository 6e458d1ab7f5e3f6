import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditRing } from './audit-ring.js';

export interface SidecarMetrics {
  registry: Registry;
  proxied: Counter<'status'>;
  proxyDuration: Histogram;
  opaEvaluations: Counter<'result'>;
}

export function createSidecarMetrics(ring: AuditRing): SidecarMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'agentspec_sidecar_audit_ring_entries',
    help: 'Entries in the audit ring',
    registers: [registry],
    collect() {
      this.set(ring.size);
    },
  });
  return {
    registry,
    proxied: new Counter({
      name: 'agentspec_sidecar_proxy_requests_total',
      help: 'Requests through the proxy, by response status (502: agent unreachable, 403: blocked by OPA)',
      labelNames: ['status'],
      registers: [registry],
    }),
    proxyDuration: new Histogram({
      name: 'agentspec_sidecar_proxy_duration_seconds',
      help: 'Time from request to the end of the response through the proxy',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    opaEvaluations: new Counter({
      name: 'agentspec_sidecar_opa_evaluations_total',
      help: 'OPA evaluations, by result (allowed, violations, unreachable)',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
