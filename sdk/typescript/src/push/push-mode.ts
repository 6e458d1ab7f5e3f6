import { AgentSpecReporter } from '../health/reporter.js';
import { isPushModeActive, startPushLoop, type PushModeOptions } from './push-loop.js';

export { isPushModeActive, stopPushMode, type PushModeOptions, type PushReporter } from './push-loop.js';

/**
 * Pushes {health, gap} to `url` now and every `intervalMs` (seed 000's push mode), with `reporter` or a new
 * AgentSpecReporter of `manifest`. Calling it again while active does nothing.
 */
export function startPushMode(options: PushModeOptions): void {
  if (isPushModeActive()) return;
  const reporter =
    options.reporter ??
    new AgentSpecReporter({ manifest: options.manifest, ...(options.baseDir ? { baseDir: options.baseDir } : {}) });
  startPushLoop({ ...options, reporter });
}
