import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = ColumnType<unknown, string | undefined, string>;

export interface AgentsTable {
  id: Generated<string>;
  namespace: string;
  name: string;
  runtime: string;
  manifest: Json | null;
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
}

export interface HeartbeatsTable {
  id: Generated<string>;
  instance_pk: string;
  received_at: Timestamp;
  phase: string;
  score: number | null;
  grade: string | null;
}

export interface Database {
  agents: AgentsTable;
  instances: InstancesTable;
  heartbeats: HeartbeatsTable;
}
