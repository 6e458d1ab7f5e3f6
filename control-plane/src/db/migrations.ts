import { sql, type Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

/** Versioned migrations; they run on PostgreSQL ≥ 13 and on PGlite. Never edit one that has shipped. */
export const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('agents')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('namespace', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('runtime', 'text', (c) => c.notNull())
        .addColumn('manifest', 'jsonb')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addUniqueConstraint('agents_namespace_name_key', ['namespace', 'name'])
        .execute();
      await db.schema
        .createTable('instances')
        .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn('agent_id', 'uuid', (c) => c.notNull().references('agents.id').onDelete('cascade'))
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addColumn('runtime', 'text', (c) => c.notNull())
        .addColumn('token_id_hash', 'text', (c) => c.notNull())
        .addColumn('token_expires_at', 'timestamptz', (c) => c.notNull())
        .addColumn('registered_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('last_seen_at', 'timestamptz')
        .addColumn('last_heartbeat_at', 'timestamptz')
        .addColumn('connection_state', 'text', (c) => c.notNull().defaultTo('registered'))
        .addColumn('health_status', 'text')
        .addColumn('phase', 'text', (c) => c.notNull().defaultTo('Unknown'))
        .addColumn('grade', 'text')
        .addColumn('score', 'integer')
        .addColumn('health_hash', 'text')
        .addColumn('gap_hash', 'text')
        .addColumn('proof_hash', 'text')
        .addColumn('health', 'jsonb')
        .addColumn('gap', 'jsonb')
        .addColumn('proof', 'jsonb')
        .addColumn('documents_updated_at', 'timestamptz')
        .addUniqueConstraint('instances_agent_instance_key', ['agent_id', 'instance_id'])
        .execute();
      await db.schema
        .createTable('heartbeats')
        .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('instance_pk', 'uuid', (c) => c.notNull().references('instances.id').onDelete('cascade'))
        .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('score', 'integer')
        .addColumn('grade', 'text')
        .execute();
      await db.schema
        .createIndex('heartbeats_instance_id_idx')
        .on('heartbeats')
        .columns(['instance_pk', 'id'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('heartbeats').execute();
      await db.schema.dropTable('instances').execute();
      await db.schema.dropTable('agents').execute();
    },
  },
  '0002_liveness_events': {
    async up(db: Kysely<unknown>) {
      await sql`
        alter table instances
          add column interval_seconds integer not null default 30,
          add column deployment_mode text not null default 'connected',
          add column transport text not null default 'callback',
          add column heartbeat_event_at timestamptz,
          add column problems jsonb
      `.execute(db);
      await sql`alter table agents add column phase text not null default 'Unknown', add column last_seen_at timestamptz`.execute(
        db,
      );
      // History outlives the instances the reaper deletes: it belongs to the agent.
      await sql`
        alter table heartbeats
          add column agent_id uuid references agents(id) on delete cascade,
          add column instance_id text,
          alter column instance_pk drop not null
      `.execute(db);
      await sql`
        update heartbeats h set agent_id = i.agent_id, instance_id = i.instance_id from instances i where i.id = h.instance_pk
      `.execute(db);
      await sql`alter table heartbeats alter column agent_id set not null`.execute(db);
      await sql`alter table heartbeats drop constraint heartbeats_instance_pk_fkey`.execute(db);
      await sql`
        alter table heartbeats add constraint heartbeats_instance_pk_fkey
          foreign key (instance_pk) references instances(id) on delete set null
      `.execute(db);
      await db.schema.createIndex('heartbeats_agent_id_idx').on('heartbeats').columns(['agent_id', 'id']).execute();
      await db.schema
        .createTable('events')
        .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('events').execute();
      await sql`alter table heartbeats drop constraint heartbeats_instance_pk_fkey`.execute(db);
      await sql`delete from heartbeats where instance_pk is null`.execute(db);
      await sql`
        alter table heartbeats add constraint heartbeats_instance_pk_fkey
          foreign key (instance_pk) references instances(id) on delete cascade
      `.execute(db);
      await sql`alter table heartbeats drop column agent_id, drop column instance_id, alter column instance_pk set not null`.execute(
        db,
      );
      await sql`alter table agents drop column phase, drop column last_seen_at`.execute(db);
      await sql`
        alter table instances drop column interval_seconds, drop column deployment_mode, drop column transport,
          drop column heartbeat_event_at, drop column problems
      `.execute(db);
    },
  },
  '0003_probe_results': {
    // A probe answered by the replica that holds the instance's WebSocket, read by the replica that was asked.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('probe_results')
        .addColumn('request_id', 'uuid', (c) => c.primaryKey())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('probe_results').execute();
    },
  },
  '0004_hosted_mode': {
    // Seed 003's hosted mode: the control plane calls into the instance at this URL.
    async up(db: Kysely<unknown>) {
      await sql`alter table instances add column public_url text`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await sql`alter table instances drop column public_url`.execute(db);
    },
  },
  '0005_documents_as_json': {
    // The documents are only ever read back whole: json keeps their text (checked, not parsed into a tree on every
    // write, which cost PostgreSQL most of a first heartbeat's CPU at 64 KB). What queries read of them lives in
    // the small jsonb `problems`, the gap's source included.
    async up(db: Kysely<unknown>) {
      await sql`
        update instances set problems = coalesce(problems, '{}'::jsonb) || jsonb_build_object('source', gap->>'source')
        where gap ? 'source' and gap->'source' <> 'null'::jsonb`.execute(db);
      await sql`
        alter table instances
          alter column health type json using health::json,
          alter column gap type json using gap::json,
          alter column proof type json using proof::json`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await sql`
        alter table instances
          alter column health type jsonb using health::jsonb,
          alter column gap type jsonb using gap::jsonb,
          alter column proof type jsonb using proof::jsonb`.execute(db);
    },
  },
  '0006_instances_fillfactor': {
    // A heartbeat rewrites its instance's row. With room left on each page the new row version stays on the same page
    // and, since no indexed column changes, no index is written (a HOT update): without it every first heartbeat of a
    // freshly registered instance — whose row sits on a full page — also inserted into both of the table's indexes.
    async up(db: Kysely<unknown>) {
      await sql`alter table instances set (fillfactor = 70)`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      await sql`alter table instances reset (fillfactor)`.execute(db);
    },
  },
  '0007_instances_agent_phase': {
    // An agent's phase is its worst live instance's: with the instances of an agent by phase, finding it probes each
    // phase (four) instead of reading every instance of the agent — after a rollout each batch of first heartbeats
    // recomputes the phase of every agent it touched. A phase change now writes the indexes (it is rare after the first
    // heartbeat); liveness and documents still do not.
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('instances_agent_phase_idx').on('instances').columns(['agent_id', 'phase']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('instances_agent_phase_idx').execute();
    },
  },
};

export const migrationProvider: MigrationProvider = { getMigrations: async () => migrations };
