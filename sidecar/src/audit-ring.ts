/** One request through the proxy. */
export interface AuditEntry {
  requestId: string;
  /** ISO time the request arrived (formatted when read: the proxy stores epoch milliseconds in `at`). */
  timestamp?: string;
  /** Epoch milliseconds the request arrived. */
  at: number;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  /** From X-AgentSpec-* response headers (HeaderReporting). */
  guardrailsInvoked?: string[];
  toolsCalled?: string[];
  userConfirmed?: boolean;
  /** Behavioural events pushed later to POST /agentspec/events (EventPush). */
  events?: unknown[];
  opaViolations?: string[];
  blocked?: boolean;
  /** The upstream could not be reached or failed mid-response. */
  error?: string;
}

/** A fixed-size in-memory circular buffer of the newest entries (AUDIT_RING_SIZE), with lookup by request id. */
export class AuditRing {
  private readonly entries: (AuditEntry | undefined)[];
  private next = 0;
  private count = 0;
  private readonly byId = new Map<string, AuditEntry>();

  constructor(readonly capacity: number) {
    this.entries = new Array<AuditEntry | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(entry: AuditEntry): void {
    const evicted = this.entries[this.next];
    if (evicted && this.byId.get(evicted.requestId) === evicted) this.byId.delete(evicted.requestId);
    this.entries[this.next] = entry;
    this.byId.set(entry.requestId, entry);
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  find(requestId: string): AuditEntry | undefined {
    return this.byId.get(requestId);
  }

  /** The newest `limit` entries, newest first, with their ISO timestamps. */
  latest(limit = this.capacity): AuditEntry[] {
    const out: AuditEntry[] = [];
    for (let i = 1; i <= Math.min(limit, this.count); i++) {
      const entry = this.entries[(this.next - i + this.capacity) % this.capacity];
      if (entry) {
        const { at, ...rest } = entry;
        out.push({ ...rest, timestamp: new Date(at).toISOString(), at });
      }
    }
    return out;
  }
}
