import type { Logger } from 'pino';

export type AuditAction = 'register' | 'deregister' | 'auth-failed' | 'out-of-scope';

/**
 * One audit line: who did what to which namespace, at info level with `audit` set to the action (filter on it).
 * Never a key or a token: callers pass names, ids and addresses only.
 */
export function audit(
  logger: Logger,
  action: AuditAction,
  details: Record<string, string | number | undefined>,
  message = `audit: ${action}`,
): void {
  logger.info({ audit: action, ...details }, message);
}

/**
 * Counts failed authentications per client address and says when one is worth an audit line: the first, the tenth,
 * the hundredth... so a client retrying a wrong key is visible without a line per request. Bounded: past `capacity`
 * addresses the counts start over.
 */
export class FailureCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly capacity = 10_000) {}

  /** Counts one failure; returns the count when it is 1, 10, 100, ... and undefined otherwise. */
  fail(address: string): number | undefined {
    if (this.counts.size >= this.capacity && !this.counts.has(address)) this.counts.clear();
    const count = (this.counts.get(address) ?? 0) + 1;
    this.counts.set(address, count);
    return Number.isInteger(Math.log10(count)) ? count : undefined;
  }
}
