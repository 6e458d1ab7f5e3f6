export interface BackoffOptions {
  /** First delay. Default 500 ms. */
  baseMs?: number;
  /** Cap of any delay, Retry-After included. Default 30 s. */
  maxMs?: number;
  /** Attempts in all, the first included. Default 5. */
  maxAttempts?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Full-jitter exponential backoff: a random delay in [0, min(maxMs, baseMs × 2^attempt)]. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const ceiling = Math.min(max, base * 2 ** attempt);
  return Math.round((options.random ?? Math.random)() * ceiling);
}

/** Retry-After as milliseconds (seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The remote-write rule: 5xx, 429 and network errors are worth another try; other 4xx never are. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

export class RequestFailedError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly attempts = 1,
  ) {
    super(message);
    this.name = 'RequestFailedError';
  }
}

/**
 * Sends with `send` until it gets a response that is not retryable, honouring Retry-After (capped at maxMs).
 * Resolves with the last response (the caller decides what a 4xx means); rejects after maxAttempts.
 */
export async function sendWithRetry(send: () => Promise<Response>, options: BackoffOptions = {}): Promise<Response> {
  const attempts = options.maxAttempts ?? 5;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let lastError = 'no attempt made';
  let lastStatus: number | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    let response: Response | undefined;
    try {
      response = await send();
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      lastStatus = undefined;
    }
    if (response && !isRetryableStatus(response.status)) return response;
    if (response) {
      lastStatus = response.status;
      lastError = `HTTP ${response.status}`;
    }
    if (attempt === attempts - 1) break;
    const retryAfter = parseRetryAfter(response?.headers.get('retry-after'));
    await response?.body?.cancel().catch(() => undefined);
    const delay =
      retryAfter !== undefined ? Math.min(retryAfter, options.maxMs ?? 30_000) : backoffDelay(attempt, options);
    await sleep(delay);
  }
  throw new RequestFailedError(`gave up after ${attempts} attempts: ${lastError}`, lastStatus, attempts);
}
