import { sql, type Kysely } from 'kysely';
import { isDatabaseOutage } from './db/database.js';
import { prepared } from './db/prepared.js';
import type { Database } from './db/schema.js';

/** One verified heartbeat, ready to be written. Documents are serialised JSON with their sha256. */
export interface HeartbeatWrite {
  instancePk: string;
  tokenIdHash: string;
  healthStatus: string | null;
  phase: string;
  score: number | null;
  grade: string | null;
  healthJson: string;
  healthHash: string;
  gapJson: string;
  gapHash: string;
  proofJson: string | null;
  proofHash: string | null;
  /** The first failing checks and violations (JSON), stored with the documents. */
  problemsJson: string;
  /** The interval the instance says it heartbeats at (already clamped); null keeps the registered one. */
  intervalSeconds: number | null;
}

/** The documents' length (UTF-16 code units: bytes near enough for a bound). */
const documentBytes = (w: HeartbeatWrite): number =>
  w.healthJson.length + w.gapJson.length + (w.proofJson?.length ?? 0);

/** What one written heartbeat changed. */
export interface WrittenHeartbeat {
  written: true;
  instanceId: string;
  agentId: string;
  namespace: string;
  name: string;
  /** The instance's phase moved, or it came back from offline: the agent's phase may have. */
  phaseChanged: boolean;
  /** An agent.heartbeat event is due (one per interval, and whenever phase or score moved). */
  announce: boolean;
}

/** Written, or refused (the token was revoked, or the rate limit). */
export type HeartbeatWriteResult = WrittenHeartbeat | { written: false };

/** What the statement returns per written heartbeat. */
export interface HeartbeatRow {
  id: string;
  instance_id: string;
  agent_id: string;
  namespace: string;
  name: string;
  phase_changed: boolean;
  announce: boolean;
}

interface Pending {
  write: HeartbeatWrite;
  resolve: (result: HeartbeatWriteResult) => void;
  reject: (error: unknown) => void;
}

export interface HeartbeatWriterOptions {
  minIntervalSeconds: number;
  /** History rows kept per instance (the statement adds one when phase, score or a document moved, and trims). */
  historyLimit: number;
  /** Most heartbeats in one statement. */
  maxBatch?: number;
  /**
   * Most document bytes in one statement (a heartbeat larger than this goes alone): a statement of 200 large documents
   * kept every heartbeat behind it waiting for all of them.
   */
  maxBatchBytes?: number;
  /** Statements in flight at once; heartbeats that arrive meanwhile wait for the next one. */
  maxInFlight?: number;
}

/**
 * Coalesces concurrent heartbeats into one multi-row UPDATE, which also adds their history rows and trims the history
 * (one statement, one round trip, for all of a heartbeat's writes but the agent's phase). A statement starts as soon as
 * a slot is free, so a
 * lone heartbeat is written at once; under load the heartbeats that arrive while statements run share the next.
 * Each caller is answered only after its statement committed, so an acknowledged heartbeat is never lost. The
 * token and the rate limit are conditions of the same UPDATE, per row, exactly as for a single heartbeat; a
 * second heartbeat of an instance already in a running statement waits until that statement is done, so it is judged
 * against the first one's write — and two statements never wait on each other's row locks (which, in opposite orders,
 * deadlocked until PostgreSQL's deadlock_timeout broke one of them: a second's stall).
 */
export class HeartbeatWriter {
  private readonly pending: Pending[] = [];
  private inFlight = 0;
  /** Instances in a statement now: their next heartbeats wait for it (two statements never lock the same row). */
  private readonly writing = new Set<string>();
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: HeartbeatWriterOptions,
  ) {
    this.maxBatch = options.maxBatch ?? 200;
    this.maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
    // Two: PostgreSQL and the control plane share few cores; more statements at once only made each batch smaller (every
    // statement costs the same fixed work) and the first heartbeats of a rollout slower (measured: bench/heartbeat).
    this.maxInFlight = options.maxInFlight ?? 2;
  }

  write(write: HeartbeatWrite): Promise<HeartbeatWriteResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ write, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.pending.length > 0) {
      const batch = this.takeBatch();
      if (batch.length === 0) return;
      this.inFlight++;
      void this.flush(batch).finally(() => {
        for (const item of batch) this.writing.delete(item.write.instancePk);
        this.inFlight--;
        this.pump();
      });
    }
  }

  /**
   * The oldest pending heartbeats, at most one per instance, of instances no running statement writes; their instances
   * count as written from here until the statement is done.
   */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let bytes = 0;
    for (let i = 0; i < this.pending.length && batch.length < this.maxBatch;) {
      const item = this.pending[i]!;
      if (this.writing.has(item.write.instancePk)) {
        i++;
        continue;
      }
      const size = documentBytes(item.write);
      if (batch.length > 0 && bytes + size > this.maxBatchBytes) break;
      bytes += size;
      this.writing.add(item.write.instancePk);
      batch.push(item);
      this.pending.splice(i, 1);
    }
    return batch;
  }

  private async flush(batch: Pending[]): Promise<void> {
    try {
      const rows = await this.execute(batch.map((p) => p.write));
      const byPk = new Map(rows.map((row) => [row.id, row]));
      for (const { write, resolve } of batch) {
        const row = byPk.get(write.instancePk);
        resolve(
          row
            ? {
                written: true,
                instanceId: row.instance_id,
                agentId: row.agent_id,
                namespace: row.namespace,
                name: row.name,
                phaseChanged: row.phase_changed,
                announce: row.announce,
              }
            : { written: false },
        );
      }
    } catch (error) {
      // One heartbeat the database refuses must not fail the others: write each on its own. An outage fails them all
      // alike, so they are answered at once rather than with a statement each.
      if (batch.length === 1 || isDatabaseOutage(error)) {
        for (const { reject } of batch) reject(error);
        return;
      }
      await Promise.all(batch.map((item) => this.flush([item])));
    }
  }

  protected async execute(writes: HeartbeatWrite[]): Promise<HeartbeatRow[]> {
    const column = <T>(pick: (w: HeartbeatWrite) => T): T[] => writes.map(pick);
    const pks = column((w) => w.instancePk);
    // The documents travel as one JSON array each, joined from their serialised text: as elements of a text[] every
    // quote in them would be escaped on the way and unescaped on arrival (most of a 64 KB heartbeat's cost in pg).
    // Each document is one JSON value (JSON.stringify's output), so the arrays' elements line up with the other columns
    // (ROWS FROM pairs them by position); a heartbeat without a proof holds a JSON null there, and a null proof hash.
    const documents = (pick: (w: HeartbeatWrite) => string | null): string =>
      `[${writes.map((w) => pick(w) ?? 'null').join(',')}]`;
    // Liveness always; documents only when their hash changed. clock_timestamp(), not now(): a concurrent heartbeat of
    // the same instance that waited for the row lock must compare against real time.
    const result = await sql<HeartbeatRow>`${prepared}
      with input as (
        select t.*, case when t.proof_hash is null then null else t.proof_document end as proof
        from rows from (
          unnest(${pks}::uuid[]), unnest(${column((w) => w.tokenIdHash)}::text[]),
          unnest(${column((w) => w.healthStatus)}::text[]), unnest(${column((w) => w.phase)}::text[]),
          unnest(${column((w) => w.score)}::integer[]), unnest(${column((w) => w.grade)}::text[]),
          unnest(${column((w) => w.healthHash)}::text[]), json_array_elements(${documents((w) => w.healthJson)}::json),
          unnest(${column((w) => w.gapHash)}::text[]), json_array_elements(${documents((w) => w.gapJson)}::json),
          unnest(${column((w) => w.proofHash)}::text[]), json_array_elements(${documents((w) => w.proofJson)}::json),
          unnest(${column((w) => w.problemsJson)}::text[]), unnest(${column((w) => w.intervalSeconds)}::integer[])
        ) as t(pk, token_id_hash, health_status, phase, score, grade, health_hash, health, gap_hash, gap, proof_hash,
          proof_document, problems, interval_seconds)
      ),
      -- Each heartbeat with its row as it was, for RETURNING (which sees the new one). Looked up by key, one row each:
      -- LIMIT keeps the planner from turning the lookups into a join that scans the table.
      batch as (
        select input.*, i.*, a.namespace, a.name
        from input
        cross join lateral (
          select health_hash as old_health_hash, gap_hash as old_gap_hash, phase as old_phase, score as old_score,
            connection_state as old_connection_state, agent_id
          from instances where id = input.pk limit 1
        ) i
        cross join lateral (select namespace, name from agents where id = i.agent_id limit 1) a
      ),
      updated as (
        update instances set
          last_seen_at = now(),
          last_heartbeat_at = clock_timestamp(),
          connection_state = 'online',
          health_status = batch.health_status,
          phase = batch.phase,
          score = batch.score,
          grade = batch.grade,
          health = case when instances.health_hash is distinct from batch.health_hash then batch.health else instances.health end,
          gap = case when instances.gap_hash is distinct from batch.gap_hash then batch.gap else instances.gap end,
          proof = case when instances.proof_hash is distinct from batch.proof_hash then batch.proof else instances.proof end,
          documents_updated_at = case
            when instances.health_hash is distinct from batch.health_hash or instances.gap_hash is distinct from batch.gap_hash
              or instances.proof_hash is distinct from batch.proof_hash then now() else instances.documents_updated_at end,
          problems = case when instances.health_hash is distinct from batch.health_hash
            or instances.gap_hash is distinct from batch.gap_hash then batch.problems::jsonb else instances.problems end,
          health_hash = batch.health_hash, gap_hash = batch.gap_hash, proof_hash = batch.proof_hash,
          interval_seconds = coalesce(batch.interval_seconds, instances.interval_seconds),
          heartbeat_event_at = case
            when batch.old_phase is distinct from batch.phase or batch.old_score is distinct from batch.score
              or batch.old_connection_state = 'offline' or instances.heartbeat_event_at is null
              or instances.heartbeat_event_at <= now() - make_interval(secs => instances.interval_seconds)
            then now() else instances.heartbeat_event_at end
        from batch
        -- By key, whatever the planner estimates of the batch (a generic plan assumes a hundred rows: it would read the
        -- whole table to hash-join them).
        where instances.id = any(${pks}::uuid[]) and instances.id = batch.pk
          and instances.token_id_hash = batch.token_id_hash
          and (instances.last_heartbeat_at is null
               or instances.last_heartbeat_at <= clock_timestamp() - make_interval(secs => ${this.options.minIntervalSeconds}))
        returning instances.id, instances.instance_id, batch.agent_id, batch.namespace, batch.name,
          (batch.old_health_hash is distinct from batch.health_hash or batch.old_gap_hash is distinct from batch.gap_hash
            or batch.old_phase is distinct from batch.phase or batch.old_score is distinct from batch.score) as changed,
          (batch.old_phase is distinct from batch.phase or batch.old_connection_state = 'offline') as phase_changed,
          (instances.heartbeat_event_at = now()) as announce,
          instances.phase, instances.score, instances.grade
      ),
      -- The history row of each heartbeat that moved phase, score or a document, and the trim to historyLimit rows
      -- per instance. The trim cannot see the rows added beside it (one snapshot): it keeps one old row fewer.
      added as (
        insert into heartbeats (instance_pk, agent_id, instance_id, phase, score, grade)
        select id, agent_id, instance_id, phase, score, grade from updated where changed
      ),
      trimmed as (
        delete from heartbeats where id in (
          select id from (
            select id, row_number() over (partition by instance_pk order by id desc) as newer
            from heartbeats where instance_pk in (select id from updated where changed)
          ) ranked where newer >= ${this.options.historyLimit}
        )
      )
      select id, instance_id, agent_id, namespace, name, phase_changed, announce from updated
    `.execute(this.db);
    return result.rows;
  }
}
