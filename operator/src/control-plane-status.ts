import { EventStream, type AgentSummary, type ControlPlaneClient, type FleetEvent } from '@agentspec/sdk';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { Periodic } from '@agentspec/service-kit';
import { registered } from './metric.js';

export interface ControlPlaneStatusOptions {
  client: ControlPlaneClient;
  /** Only this namespace's agents, or all. */
  namespace?: string;
  /** How often every agent is read again: the safety net under the event stream. */
  resyncMs: number;
  logger: Logger;
  /** An agent's figures changed (or appeared, or went). */
  onChange: (key: string) => void;
  /** The control plane became reachable or unreachable. */
  onReachabilityChange: () => void;
  registry?: Registry;
}

/**
 * What the control plane knows of each agent (registration, phase, score, grade). It follows the control plane's
 * event stream (resuming by id after a break): an event about an agent re-reads that agent's summary, so a status
 * follows a heartbeat within a round trip. A full list is read at start, after a reset of the stream, when the stream
 * breaks (which also tells reachability), when it connects while the control plane was unreachable, and every resync
 * interval. Only changes are passed on.
 */
export class ControlPlaneStatus {
  private agents = new Map<string, AgentSummary>();
  private reachable: boolean | undefined;
  private lastError: string | undefined;
  private readonly periodic: Periodic;
  private readonly polls: Counter<'result'> | undefined;
  private readonly events: Counter<'type'> | undefined;
  private readonly stream: EventStream;
  private readonly pending = new Set<string>();
  private fetching = false;

  constructor(private readonly options: ControlPlaneStatusOptions) {
    this.periodic = new Periodic(() => this.poll(), options.resyncMs);
    this.stream = new EventStream({
      client: options.client,
      ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
      onEvent: (event) => this.onEvent(event),
      // Connected while the last full read failed (the control plane came up after the operator): read everything
      // now, or the events that follow would be dropped until the next resync.
      onConnect: () => {
        if (this.reachable !== true) void this.poll();
      },
      onReset: () => void this.poll(),
      onDisconnect: (error) => {
        options.logger.debug({ err: error?.message }, 'control plane event stream broke; reconnecting');
        void this.poll();
      },
    });
    this.polls =
      options.registry &&
      registered(
        options.registry,
        'agentspec_operator_control_plane_polls_total',
        (registers) =>
          new Counter({
            name: 'agentspec_operator_control_plane_polls_total',
            help: 'Full reads of the control plane read API (start, resync, stream break), by result (ok, error)',
            labelNames: ['result'],
            registers,
          }),
      );
    this.events =
      options.registry &&
      registered(
        options.registry,
        'agentspec_operator_control_plane_events_total',
        (registers) =>
          new Counter({
            name: 'agentspec_operator_control_plane_events_total',
            help: 'Events received from the control plane event stream, by type',
            labelNames: ['type'],
            registers,
          }),
      );
  }

  /** undefined until the first poll answered or failed. */
  get isReachable(): boolean | undefined {
    return this.reachable;
  }

  get error(): string | undefined {
    return this.lastError;
  }

  get(namespace: string, name: string): AgentSummary | undefined {
    return this.agents.get(`${namespace}/${name}`);
  }

  start(): void {
    void this.periodic.start();
    this.stream.start();
  }

  stop(): void {
    this.periodic.stop();
    this.stream.stop();
  }

  /** An event about an agent: its summary is read again (coalesced while a read of it is pending). */
  private onEvent(event: FleetEvent): void {
    this.events?.inc({ type: event.type });
    this.pending.add(`${event.namespace}/${event.name}`);
    if (!this.fetching) void this.fetchPending();
  }

  private async fetchPending(): Promise<void> {
    this.fetching = true;
    try {
      while (this.pending.size > 0) {
        const key = this.pending.values().next().value as string;
        this.pending.delete(key);
        const [namespace = '', name = ''] = key.split('/');
        let agent: AgentSummary | undefined;
        try {
          agent = await this.options.client.getAgentSummary(namespace, name);
        } catch (err) {
          this.lastError = (err as Error).message;
          continue; // the stream's break (or the next resync) covers an unreachable control plane
        }
        if (this.reachable !== true) continue; // the first full read passes everything on
        this.update(key, agent);
      }
    } finally {
      this.fetching = false;
    }
  }

  /** Stores one agent's figures when they changed (or it went), and passes the key on. */
  private update(key: string, agent: AgentSummary | undefined): void {
    const old = this.agents.get(key);
    if (agent ? old && !changed(old, agent) : !old) return;
    if (agent) this.agents.set(key, agent);
    else this.agents.delete(key);
    this.options.onChange(key);
  }

  /** One full read; exported for tests and for a refresh after a deregistration. */
  async poll(): Promise<void> {
    let items: AgentSummary[];
    try {
      items = await this.options.client.listAgents(
        this.options.namespace !== undefined ? { namespace: this.options.namespace } : {},
      );
    } catch (err) {
      this.polls?.inc({ result: 'error' });
      this.lastError = (err as Error).message;
      if (this.reachable !== false) {
        this.options.logger.warn({ err: this.lastError }, 'control plane unreachable');
        this.reachable = false;
        this.options.onReachabilityChange();
      }
      return;
    }
    this.polls?.inc({ result: 'ok' });
    this.lastError = undefined;
    const next = new Map(items.map((a) => [`${a.namespace}/${a.name}`, a]));
    const moved: string[] = [];
    for (const [key, agent] of next) {
      const old = this.agents.get(key);
      if (!old || changed(old, agent)) moved.push(key);
      else next.set(key, old);
    }
    for (const key of this.agents.keys()) if (!next.has(key)) moved.push(key);
    this.agents = next;
    const flipped = this.reachable !== true;
    this.reachable = true;
    if (flipped) this.options.onReachabilityChange();
    else for (const key of moved) this.options.onChange(key);
  }
}

/** lastSeen moves with every heartbeat; it alone is not worth a reconcile more often than once a minute. */
function changed(old: AgentSummary, agent: AgentSummary): boolean {
  const figures = (a: AgentSummary): string => JSON.stringify({ ...a, lastSeen: undefined });
  const seenMoved =
    old.lastSeen !== agent.lastSeen &&
    (!old.lastSeen || !agent.lastSeen || Date.parse(agent.lastSeen) - Date.parse(old.lastSeen) >= 60_000);
  return figures(agent) !== figures(old) || seenMoved;
}
