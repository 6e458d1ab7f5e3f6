import { runAudit } from '../audit/run-audit.js';
import { AgentSpecReporter } from '../health/reporter.js';
import type { AgentManifest } from '../manifest/load.js';
import { logError } from '../log-error.js';
import { buildPushPayload } from './payload.js';
import { redact } from './redact.js';
import { sendWithRetry, type BackoffOptions } from './retry.js';

export interface PushModeOptions {
  /** Loaded via loadManifest(). */
  manifest: AgentManifest;
  /** POST endpoint on your control plane. */
  url: string;
  /** Bearer token sent in the Authorization header. */
  apiKey: string;
  /** Default 30 000 (30 seconds). */
  intervalMs?: number;
  /** Reuse a running reporter (with its registered tools) instead of a new one. */
  reporter?: AgentSpecReporter;
  /** Directory of the manifest for `$file:` references, when no reporter is given. */
  baseDir?: string;
  backoff?: BackoffOptions;
  fetch?: typeof fetch;
}

interface PushState {
  timer: NodeJS.Timeout;
  running: boolean;
}

let state: PushState | undefined;

async function pushOnce(options: PushModeOptions, reporter: AgentSpecReporter): Promise<void> {
  const secrets = [options.apiKey];
  try {
    const health = await reporter.getReport();
    const payload = buildPushPayload(health, runAudit(options.manifest));
    const fetchImpl = options.fetch ?? fetch;
    const body = JSON.stringify(payload);
    const response = await sendWithRetry(
      () =>
        fetchImpl(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` },
          body,
          signal: AbortSignal.timeout(10_000),
        }),
      options.backoff,
    );
    await response.body?.cancel().catch(() => undefined);
    if (!response.ok) {
      logError(redact(`[agentspec] push to ${options.url} rejected: HTTP ${response.status}`, secrets));
    }
  } catch (err) {
    logError(redact(`[agentspec] push to ${options.url} failed: ${(err as Error).message}`, secrets));
  }
}

/** Pushes {health, gap} to `url` now and every `intervalMs`. Calling it again while active does nothing. */
export function startPushMode(options: PushModeOptions): void {
  if (state) return;
  const reporter =
    options.reporter ??
    new AgentSpecReporter({ manifest: options.manifest, ...(options.baseDir ? { baseDir: options.baseDir } : {}) });
  const current: PushState = {
    running: false,
    timer: setInterval(() => tick(), options.intervalMs ?? 30_000),
  };
  current.timer.unref();
  const tick = (): void => {
    if (current.running) return; // a slow push never overlaps the next one
    current.running = true;
    void pushOnce(options, reporter).finally(() => {
      current.running = false;
    });
  };
  state = current;
  tick();
}

/** Clears the interval. */
export function stopPushMode(): void {
  if (state) clearInterval(state.timer);
  state = undefined;
}

export function isPushModeActive(): boolean {
  return state !== undefined;
}
