import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { ifFound } from '@agentspec/service-kit';
import { describeError } from './api-error.js';
import { registered } from './metric.js';

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** The Lease's name. */
  name: string;
  /** This process, unique among candidates (pod name plus a random suffix). */
  identity: string;
  /** How long a lease holds without renewal. Default 15 s. */
  leaseDurationMs?: number;
  /** A leader that could not renew for this long steps down. Default 10 s. */
  renewDeadlineMs?: number;
  /** Between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  logger: Logger;
  registry?: Registry;
  onStartedLeading: () => void;
  /** Called once when leadership is lost (not on release); the process should exit. */
  onStoppedLeading: () => void;
}

/**
 * A Lease's acquireTime and renewTime are MicroTime: the apiserver wants exactly six fractional digits, and
 * client-node would send Date#toISOString()'s three (400). Strings pass its serializer unchanged.
 */
export function microTime(date: Date | string): Date {
  return new Date(date).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
}

const isStatus = (err: unknown, code: number): boolean => (err as { code?: number }).code === code;

/**
 * client-go's leader election on a coordination.k8s.io Lease. Expiry is judged by the local clock from when this
 * process last saw the record change (never by comparing clocks across machines), so a standby takes over about
 * leaseDuration after the leader's last renewal. `release()` empties the holder so a standby takes over at once.
 */
export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly status: Gauge<'name'> | undefined;
  private observed: { key: string; at: number } | undefined;
  private leading = false;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly options: LeaderElectionOptions) {
    this.api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.status = options.registry
      ? registered(
          options.registry,
          'leader_election_master_status',
          (registers) =>
            new Gauge({
              name: 'leader_election_master_status',
              help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.',
              labelNames: ['name'],
              registers,
            }),
        )
      : undefined;
    this.status?.set({ name: options.name }, 0);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.running = this.attempt().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.retryPeriodMs);
      });
    };
    tick();
  }

  /** Stops trying; when leading, gives the lease up so a standby need not wait for it to expire. */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (!this.leading) return;
    this.leading = false;
    this.status?.set({ name: this.options.name }, 0);
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity !== this.options.identity) return;
      await this.api.replaceNamespacedLease({
        name: this.options.name,
        namespace: this.options.namespace,
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            renewTime: microTime(new Date()),
            ...(lease.spec?.acquireTime ? { acquireTime: microTime(lease.spec.acquireTime) } : {}),
          },
        },
      });
      this.options.logger.info({ lease: this.options.name }, 'released the leader lease');
    } catch (err) {
      this.options.logger.warn({ err: describeError(err) }, 'could not release the leader lease');
    }
  }

  private read(): Promise<V1Lease | undefined> {
    return ifFound(() => this.api.readNamespacedLease({ name: this.options.name, namespace: this.options.namespace }));
  }

  private async attempt(): Promise<void> {
    try {
      const acquired = await this.tryAcquireOrRenew();
      if (acquired) {
        this.lastRenew = Date.now();
        if (!this.leading) {
          this.leading = true;
          this.status?.set({ name: this.options.name }, 1);
          this.options.logger.info({ lease: this.options.name, identity: this.options.identity }, 'became leader');
          this.options.onStartedLeading();
        }
        return;
      }
    } catch (err) {
      this.options.logger.warn({ err: describeError(err), lease: this.options.name }, 'leader election attempt failed');
    }
    if (this.leading && (Date.now() - this.lastRenew > this.renewDeadlineMs || !(await this.stillHolder()))) {
      this.leading = false;
      this.stopped = true;
      this.status?.set({ name: this.options.name }, 0);
      this.options.logger.error({ lease: this.options.name }, 'lost the leader lease');
      this.options.onStoppedLeading();
    }
  }

  /** After a failed renewal: is the lease (as far as we can tell) still ours? */
  private async stillHolder(): Promise<boolean> {
    try {
      const lease = await this.read();
      return lease?.spec?.holderIdentity === this.options.identity;
    } catch {
      return true; // unknown: the renew deadline decides
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const { name, namespace, identity } = this.options;
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      renewTime: microTime(now),
    };
    const lease = await this.read();
    if (!lease) {
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
          },
        });
        return true;
      } catch (err) {
        if (isStatus(err, 409)) return false;
        throw err;
      }
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const key = `${holder}|${String(lease.spec?.renewTime?.valueOf() ?? '')}|${lease.metadata?.resourceVersion ?? ''}`;
    if (this.observed?.key !== key) this.observed = { key, at: Date.now() };
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
    const expired = this.observed.at + durationMs < Date.now();
    if (holder !== '' && holder !== identity && !expired) return false;
    const takingOver = holder !== identity;
    try {
      await this.api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            ...spec,
            acquireTime: microTime(takingOver ? now : (lease.spec?.acquireTime ?? now)),
            leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
          },
        },
      });
      return true;
    } catch (err) {
      if (isStatus(err, 409)) return false; // someone else wrote first
      throw err;
    }
  }
}
