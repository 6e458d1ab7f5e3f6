import { KubernetesObjectApi, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { registered } from './metric.js';
import { describeError } from './api-error.js';

/** What an informer lists and watches. */
export interface ResourceType {
  apiVersion: string;
  kind: string;
  /** The lower-case plural of the REST path, e.g. `deployments`. */
  plural: string;
}

export type InformerEvent = 'add' | 'update' | 'delete' | 'resync';

export interface InformerOptions {
  kubeConfig: KubeConfig;
  resource: ResourceType;
  /** One namespace, or every namespace when undefined. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Every cached object is handed to the handlers again this often (level-based safety net). */
  resyncMs?: number;
  /** A watch that delivered nothing (not even a reconnect) for this long is torn down and the cache relisted. */
  staleMs?: number;
  /** First restart delay after a failure; doubles up to maxBackoffMs, with jitter. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  logger: Logger;
  registry?: Registry;
  /**
   * Drops what the operator never reads before an object is cached (controller-runtime's cache transforms); runs
   * after managedFields and kubectl's last-applied-configuration annotation are gone. Objects handed to handlers
   * are transformed too.
   */
  transform?: (object: KubernetesObject) => void;
  /** A secondary index: `indexed(value)` returns the cached objects this function maps to `value`, without a scan. */
  index?: (object: KubernetesObject) => string | undefined;
}

/** Read access to cached objects: one informer, or several (e.g. two namespaces) together. */
export interface Cache<T> {
  get(key: string): T | undefined;
  list(namespace?: string): T[];
}

/** Several caches read as one (disjoint: each key lives in one of them). */
export function combinedCache<T>(caches: Cache<T>[]): Cache<T> {
  return {
    get: (key) => {
      for (const cache of caches) {
        const found = cache.get(key);
        if (found) return found;
      }
      return undefined;
    },
    list: (namespace) => caches.flatMap((cache) => cache.list(namespace)),
  };
}

export type InformerHandler<T> = (event: InformerEvent, object: T) => void;

interface InformerMetrics {
  restarts: Counter<'resource' | 'reason'>;
  lastEventAge: Gauge<'resource'>;
  cachedBytes: Gauge<'resource'>;
}

const informers = new Map<Registry, Set<Informer<KubernetesObject>>>();

function metricsFor(registry: Registry): InformerMetrics {
  return {
    restarts: registered(
      registry,
      'agentspec_operator_watch_restarts_total',
      (registers) =>
        new Counter({
          name: 'agentspec_operator_watch_restarts_total',
          help: 'Watches restarted, by resource and reason (closed, timeout, error, stale, expired)',
          labelNames: ['resource', 'reason'],
          registers,
        }),
    ),
    lastEventAge: registered(
      registry,
      'agentspec_operator_watch_last_event_age_seconds',
      (registers) =>
        new Gauge({
          name: 'agentspec_operator_watch_last_event_age_seconds',
          help: 'Seconds since the watch of a resource last delivered an event or reconnected',
          labelNames: ['resource'],
          registers,
          collect() {
            for (const informer of informers.get(registry) ?? []) {
              this.set({ resource: informer.name }, (Date.now() - informer.lastActivity) / 1000);
            }
          },
        }),
    ),
    cachedBytes: registered(
      registry,
      'agentspec_operator_cache_json_bytes',
      (registers) =>
        new Gauge({
          name: 'agentspec_operator_cache_json_bytes',
          help: 'JSON bytes of the objects an informer caches, by resource (what the operator keeps in memory)',
          labelNames: ['resource'],
          registers,
          collect() {
            for (const informer of informers.get(registry) ?? []) {
              this.set({ resource: informer.name }, informer.size.jsonBytes);
            }
          },
        }),
    ),
  };
}

export const keyOf = (object: KubernetesObject): string =>
  object.metadata?.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : (object.metadata?.name ?? '');

/** A cached object: its JSON (one compact copy; parsed again on each read) and what lookups need without parsing. */
interface Entry {
  namespace: string | undefined;
  resourceVersion: string | undefined;
  indexValue: string | undefined;
  json: string;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * A list-then-watch cache of one resource type, supervised because client-node watches can end or stall silently:
 * a watch that closes is resumed from the last resourceVersion; one that fails is restarted after a jittered,
 * growing delay; `410 Gone` relists; a staleness watchdog tears down a watch that has gone quiet; and a periodic
 * resync hands every cached object to the handlers again. Memory: cached objects lose their managedFields, kubectl's
 * last-applied-configuration and what `transform` drops, and are kept as JSON text (about a third of the heap the
 * parsed objects take; each `get` returns a fresh copy, so a caller cannot change the cache by accident).
 */
export class Informer<T extends KubernetesObject> implements Cache<T> {
  readonly name: string;
  /** Date.now() of the last event or successful (re)connection. */
  lastActivity = Date.now();
  private readonly cache = new Map<string, Entry>();
  private readonly byIndex = new Map<string, Set<string>>();
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly objects: KubernetesObjectApi;
  private readonly watch: Watch;
  private readonly metrics: InformerMetrics | undefined;
  private resourceVersion = '';
  private abort: AbortController | undefined;
  private stopped = true;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private failures = 0;
  private timers: NodeJS.Timeout[] = [];
  private generation = 0;

  constructor(private readonly options: InformerOptions) {
    this.name = `${options.resource.plural}${options.resource.apiVersion.includes('/') ? `.${options.resource.apiVersion.split('/')[0]}` : ''}`;
    this.objects = KubernetesObjectApi.makeApiClient(options.kubeConfig);
    this.watch = new Watch(options.kubeConfig);
    this.metrics = options.registry ? metricsFor(options.registry) : undefined;
  }

  on(handler: InformerHandler<T>): this {
    this.handlers.push(handler);
    return this;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Whether `key` is cached, without parsing it. */
  has(key: string): boolean {
    return this.cache.has(key);
  }

  get(key: string): T | undefined {
    const entry = this.cache.get(key);
    return entry && (JSON.parse(entry.json) as T);
  }

  list(namespace?: string): T[] {
    const objects: T[] = [];
    for (const entry of this.cache.values()) {
      if (namespace === undefined || entry.namespace === namespace) objects.push(JSON.parse(entry.json) as T);
    }
    return objects;
  }

  /** The cached objects the `index` option maps to `value`. */
  indexed(value: string): T[] {
    return [...(this.byIndex.get(value) ?? [])].flatMap((key) => this.get(key) ?? []);
  }

  /** Objects cached, and the JSON bytes they take (what the operator's memory per object is measured against). */
  get size(): { objects: number; jsonBytes: number } {
    let jsonBytes = 0;
    for (const entry of this.cache.values()) jsonBytes += entry.json.length;
    return { objects: this.cache.size, jsonBytes };
  }

  /** Resolves once the first list has filled the cache. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.options.registry) {
      const set = informers.get(this.options.registry) ?? new Set();
      set.add(this as unknown as Informer<KubernetesObject>);
      informers.set(this.options.registry, set);
    }
    const staleMs = this.options.staleMs ?? 5 * 60_000;
    this.timers.push(
      setInterval(
        () => {
          if (Date.now() - this.lastActivity > staleMs) this.restart('stale', true);
        },
        Math.min(staleMs, 10_000),
      ),
    );
    const resyncMs = this.options.resyncMs ?? 10 * 60_000;
    if (resyncMs > 0) {
      this.timers.push(
        setInterval(() => {
          for (const entry of this.cache.values()) this.emit('resync', JSON.parse(entry.json) as T);
        }, resyncMs),
      );
    }
    for (const timer of this.timers) timer.unref();
    void this.run(true);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.generation++;
    this.abort?.abort();
    if (this.options.registry) {
      informers.get(this.options.registry)?.delete(this as unknown as Informer<KubernetesObject>);
    }
  }

  private emit(event: InformerEvent, object: T): void {
    for (const handler of this.handlers) {
      try {
        handler(event, object);
      } catch (err) {
        this.options.logger.error({ err, resource: this.name }, 'informer handler failed');
      }
    }
  }

  /** Ends the current watch and starts again: resuming from the last resourceVersion, or relisting. */
  private restart(reason: string, relist: boolean): void {
    if (this.stopped) return;
    this.metrics?.restarts.inc({ resource: this.name, reason });
    // Quiet watches end every 30 s (client-node's inactivity timeout) and are resumed: routine, not news.
    const routine = reason === 'timeout' || reason === 'closed';
    this.options.logger[routine ? 'debug' : 'info']({ resource: this.name, reason, relist }, 'restarting watch');
    this.generation++;
    this.abort?.abort();
    this.lastActivity = Date.now();
    void this.run(relist);
  }

  private delay(): number {
    const base = this.options.baseBackoffMs ?? 200;
    const max = this.options.maxBackoffMs ?? 30_000;
    const ms = Math.min(max, base * 2 ** Math.min(this.failures, 20));
    return ms / 2 + Math.random() * (ms / 2);
  }

  private async run(relist: boolean): Promise<void> {
    const generation = this.generation;
    const current = () => generation === this.generation && !this.stopped;
    try {
      if (relist || !this.resourceVersion) await this.relist();
      if (!current()) return;
      let ended: (err: unknown) => void = () => undefined;
      const done = new Promise<unknown>((resolve) => (ended = resolve));
      this.abort = await this.watch.watch(
        this.path(),
        {
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
          // The server ends every watch after a while; we resume from the last resourceVersion.
          timeoutSeconds: 240 + Math.floor(Math.random() * 240),
        },
        (type, object: T & { code?: number }) => {
          if (!current()) return;
          this.lastActivity = Date.now();
          this.onEvent(type, object);
        },
        (err) => ended(err),
      );
      if (!current()) {
        this.abort.abort();
        return;
      }
      this.lastActivity = Date.now();
      const connectedAt = Date.now();
      const err = await done;
      if (!current()) return;
      const lasted = Date.now() - connectedAt;
      // A watch the server closes at once, again and again, is a failure: back off instead of spinning.
      if ((err === null || err === undefined) && lasted > 1_000) return this.restart('closed', false);
      if ((err as { name?: string }).name === 'TimeoutError') return this.restart('timeout', false);
      throw err ?? new Error('watch closed right after it opened');
    } catch (err) {
      if (!current()) return;
      const expired = (err as { statusCode?: number; code?: number }).statusCode === 410;
      this.failures++;
      const wait = this.delay();
      this.options.logger.warn(
        { resource: this.name, err: describeError(err), retryInMs: Math.round(wait) },
        'watch failed',
      );
      const timer = setTimeout(() => {
        if (current()) this.restart('error', expired || relist || !this.resourceVersion);
      }, wait);
      timer.unref();
    }
  }

  private onEvent(type: string, raw: T & { code?: number }): void {
    if (type === 'ERROR') {
      // 410 Gone: our resourceVersion is too old; anything else: start over too.
      this.restart(raw.code === 410 ? 'expired' : 'error', true);
      return;
    }
    const rv = raw.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (type === 'BOOKMARK') return;
    this.failures = 0;
    const object = this.strip(raw);
    const key = keyOf(object);
    if (type === 'DELETED') {
      this.remove(key);
      this.emit('delete', object);
      return;
    }
    const existed = this.cache.has(key);
    this.put(key, this.entryOf(object));
    this.emit(existed ? 'update' : 'add', object);
  }

  private async relist(): Promise<void> {
    const { apiVersion, kind } = this.options.resource;
    const fresh = new Map<string, { object: T; entry: Entry }>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.objects.list<T>(
        apiVersion,
        kind,
        this.options.namespace,
        undefined,
        undefined,
        undefined,
        this.options.fieldSelector,
        this.options.labelSelector,
        500,
        continueToken,
      );
      for (const item of page.items) {
        // Typed model objects (Dates, class instances) back to the plain JSON a watch delivers.
        const object = this.strip(JSON.parse(JSON.stringify({ ...item, apiVersion, kind })) as T);
        fresh.set(keyOf(object), { object, entry: this.entryOf(object) });
      }
      continueToken = page.metadata?._continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (continueToken);
    for (const [key, entry] of this.cache) {
      if (!fresh.has(key)) {
        this.remove(key);
        this.emit('delete', JSON.parse(entry.json) as T);
      }
    }
    for (const [key, { object, entry }] of fresh) {
      const old = this.cache.get(key);
      this.put(key, entry);
      if (!old) this.emit('add', object);
      else if (old.resourceVersion !== entry.resourceVersion) this.emit('update', object);
    }
    this.resourceVersion = resourceVersion;
    this.failures = 0;
    this.lastActivity = Date.now();
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  private entryOf(object: KubernetesObject): Entry {
    return {
      namespace: object.metadata?.namespace,
      resourceVersion: object.metadata?.resourceVersion,
      indexValue: this.options.index?.(object),
      json: JSON.stringify(object),
    };
  }

  private put(key: string, entry: Entry): void {
    const old = this.cache.get(key);
    if (old?.indexValue !== undefined && old.indexValue !== entry.indexValue) this.unindex(old.indexValue, key);
    this.cache.set(key, entry);
    if (entry.indexValue !== undefined) {
      const keys = this.byIndex.get(entry.indexValue) ?? new Set<string>();
      keys.add(key);
      this.byIndex.set(entry.indexValue, keys);
    }
  }

  private remove(key: string): void {
    const old = this.cache.get(key);
    if (old?.indexValue !== undefined) this.unindex(old.indexValue, key);
    this.cache.delete(key);
  }

  private unindex(value: string, key: string): void {
    const keys = this.byIndex.get(value);
    keys?.delete(key);
    if (keys?.size === 0) this.byIndex.delete(value);
  }

  private strip(object: T): T {
    const metadata = object.metadata;
    if (metadata?.managedFields) delete metadata.managedFields;
    if (metadata?.annotations?.[LAST_APPLIED] !== undefined) delete metadata.annotations[LAST_APPLIED];
    this.options.transform?.(object);
    return object;
  }

  private path(): string {
    const { apiVersion, plural } = this.options.resource;
    const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = this.options.namespace ? `/namespaces/${encodeURIComponent(this.options.namespace)}` : '';
    return `${prefix}${ns}/${plural}`;
  }
}
