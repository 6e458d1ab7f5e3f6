import { Agent, request } from 'undici';
import { percentile } from './usage.js';

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  statuses: Record<number, number>;
}

export interface LoadOptions {
  url: string;
  /** Bodies and headers to send, used round-robin. */
  requests: { body: string; headers: Record<string, string> }[];
  concurrency: number;
  durationMs: number;
  /** PEM CA to trust for https:// URLs. */
  ca?: string;
  /** Send each request exactly once (then stop), instead of round-robin until the duration is over. */
  once?: boolean;
}

/** Closed-loop load: `concurrency` workers each send one request at a time until the duration is over. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const dispatcher = new Agent({
    connections: options.concurrency,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    ...(options.ca ? { connect: { ca: options.ca } } : {}),
  });
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  const started = performance.now();
  const deadline = started + options.durationMs;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (options.once ? next < options.requests.length : performance.now() < deadline) {
      const item = options.requests[next++ % options.requests.length];
      if (!item) return;
      const t0 = performance.now();
      const res = await request(options.url, { method: 'POST', body: item.body, headers: item.headers, dispatcher });
      await res.body.dump();
      latencies.push(performance.now() - t0);
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  await dispatcher.close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50ms: percentile(latencies, 50),
    p99ms: percentile(latencies, 99),
    statuses,
  };
}
