import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = ColumnType<unknown, string | undefined, string>;

export interface AgentsTable {
  id: Generated<string>;
  namespace: string;
  name: string;
  runtime: string;
  manifest: Json | null;
  /** The aggregate phase last announced with agent.phase_changed. */
  phase: Generated<string>;
  /** The newest last_seen_at of instances the reaper deleted. */
  last_seen_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface InstancesTable {
  id: Generated<string>;
  agent_id: string;
  instance_id: string;
  runtime: string;
  /** sha256 of the current token's jti; re-registration replaces it, revocation clears the row. */
  token_id_hash: string;
  token_expires_at: Timestamp;
  registered_at: Timestamp;
  last_seen_at: Timestamp | null;
  last_heartbeat_at: Timestamp | null;
  connection_state: Generated<string>;
  health_status: string | null;
  phase: Generated<string>;
  grade: string | null;
  score: number | null;
  health_hash: string | null;
  gap_hash: string | null;
  proof_hash: string | null;
  health: Json | null;
  gap: Json | null;
  proof: Json | null;
  documents_updated_at: Timestamp | null;
  /** The interval the instance heartbeats at (liveness is judged against it). */
  interval_seconds: Generated<number>;
  /** connected (the agent dials out) or hosted. */
  deployment_mode: Generated<string>;
  /** A hosted instance's public HTTPS base URL (its card and health are fetched under it); null when connected. */
  public_url: Generated<string | null>;
  /** callback (HTTP push) or ws. */
  transport: Generated<string>;
  /** When the last agent.heartbeat event of this instance was emitted (they are coalesced per interval). */
  heartbeat_event_at: Timestamp | null;
  /** The first failing checks and violations of its last report (small), for status messages. */
  problems: Json | null;
}

export interface HeartbeatsTable {
  id: Generated<string>;
  /** Null once the reaper deleted the instance; the row stays with the agent. */
  instance_pk: string | null;
  agent_id: string;
  instance_id: string;
  received_at: Timestamp;
  phase: string;
  score: number | null;
  grade: string | null;
}

export interface EventsTable {
  id: Generated<string>;
  at: Timestamp;
  type: string;
  namespace: string;
  name: string;
  /** The event's JSON, as delivered. */
  data: string;
}

export interface ProbeResultsTable {
  request_id: string;
  /** The outcome's JSON. */
  result: string;
  created_at: Generated<Date>;
}

export interface Database {
  agents: AgentsTable;
  instances: InstancesTable;
  heartbeats: HeartbeatsTable;
  events: EventsTable;
  probe_results: ProbeResultsTable;
}
