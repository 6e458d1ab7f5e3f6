import type { AgentSummary, ControlPlaneClient } from '@agentspec/sdk';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { Periodic } from '@agentspec/service-kit';
import { registered } from './metric.js';

export interface ControlPlaneStatusOptions {
  client: ControlPlaneClient;
  /** Only this namespace's agents, or all. */
  namespace?: string;
  intervalMs: number;
  logger: Logger;
  /** An agent's figures changed (or appeared, or went). */
  onChange: (key: string) => void;
  /** The control plane became reachable or unreachable. */
  onReachabilityChange: () => void;
  registry?: Registry;
}

/**
 * What the control plane knows of each agent (registration, phase, score, grade), polled through its read API with
 * the admin key. Only changes are passed on, so a quiet fleet costs one list request per interval and no
 * reconciles. (A push-based event stream may replace the polling later.)
 */
export class ControlPlaneStatus {
  private agents = new Map<string, AgentSummary>();
  private reachable: boolean | undefined;
  private lastError: string | undefined;
  private readonly periodic: Periodic;
  private readonly polls: Counter<'result'> | undefined;

  constructor(private readonly options: ControlPlaneStatusOptions) {
    this.periodic = new Periodic(() => this.poll(), options.intervalMs);
    this.polls =
      options.registry &&
      registered(
        options.registry,
        'agentspec_operator_control_plane_polls_total',
        (registers) =>
          new Counter({
            name: 'agentspec_operator_control_plane_polls_total',
            help: 'Polls of the control plane read API, by result (ok, error)',
            labelNames: ['result'],
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
  }

  stop(): void {
    this.periodic.stop();
  }

  /** One poll; exported for tests and for a refresh after a deregistration. */
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
    const changed: string[] = [];
    // lastSeen moves with every heartbeat; it alone is not worth a reconcile more often than once a minute.
    const figures = (a: AgentSummary): string => JSON.stringify({ ...a, lastSeen: undefined });
    for (const [key, agent] of next) {
      const old = this.agents.get(key);
      const seenMoved =
        old?.lastSeen !== agent.lastSeen &&
        (!old?.lastSeen || !agent.lastSeen || Date.parse(agent.lastSeen) - Date.parse(old.lastSeen) >= 60_000);
      if (!old || figures(agent) !== figures(old) || seenMoved) changed.push(key);
      else next.set(key, old);
    }
    for (const key of this.agents.keys()) if (!next.has(key)) changed.push(key);
    this.agents = next;
    const flipped = this.reachable !== true;
    this.reachable = true;
    if (flipped) this.options.onReachabilityChange();
    else for (const key of changed) this.options.onChange(key);
  }
}
