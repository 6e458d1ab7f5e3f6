// The control plane's wire shapes the dashboard reads (docs/control-plane.md; its OpenAPI document at
// /api/v1/openapi.json).

export type Phase = 'Healthy' | 'Degraded' | 'Unhealthy' | 'Unknown' | 'Offline';
export type Grade = 'A' | 'B' | 'C' | 'D' | 'F';
export type ConnectionStatus = 'online' | 'healthy' | 'degraded' | 'offline' | 'unknown';

export interface Problem {
  id: string;
  status?: string;
  severity?: string;
  message: string;
  remediation?: string;
}

/** One agent of GET /api/v1/namespaces/{ns}/agents. */
export interface AgentSummary {
  agentId: string;
  namespace: string;
  name: string;
  runtime: string;
  phase: Phase;
  score: number | null;
  grade: Grade | null;
  lastSeen: string | null;
  instances: number;
  instancesTotal: number;
  source: string | null;
  transport: string | null;
  connectionStatus: ConnectionStatus | null;
  failingChecks: Problem[];
  violations: Problem[];
}

export interface Instance {
  instanceId: string;
  runtime: string;
  registeredAt: string | null;
  lastSeen: string | null;
  connectionStatus: ConnectionStatus;
  intervalSeconds: number;
  transport: string;
  deploymentMode: string;
  status: string | null;
  phase: string | null;
  score: number | null;
  grade: Grade | null;
}

/** GET /api/v1/namespaces/{ns}/agents/{name}. */
export interface AgentDetail extends Omit<AgentSummary, 'instances'> {
  instancesLive: number;
  instances: Instance[];
}

export interface HealthCheck {
  id: string;
  category?: string;
  status: string;
  severity?: string;
  latencyMs?: number;
  message?: string;
  remediation?: string;
}

export interface HealthReport {
  status?: string;
  timestamp?: string;
  checks?: HealthCheck[];
}

export interface Violation {
  ruleId: string;
  severity: string;
  title?: string;
  message?: string;
  remediation?: string;
}

export interface GapReport {
  score?: number;
  grade?: string;
  violations?: Violation[];
}

export interface HistoryItem {
  instanceId: string;
  at: string;
  phase: string | null;
  score: number | null;
  grade: string | null;
}

export interface ConnectionStats {
  total: number;
  by_connection_status: Record<ConnectionStatus, number>;
  by_transport: Record<string, number>;
}

export interface ProbeResult {
  instanceId: string;
  status: 'ok' | 'offline' | 'timeout' | 'unreachable';
  latencyMs?: number;
  error?: string;
  report?: { status?: string };
}

/** One event of GET /api/v1/events. */
export interface FleetEvent {
  id: number;
  type: string;
  at: string;
  namespace: string;
  name: string;
  instanceId?: string;
}
