/**
 * Runs `tick` now and then `intervalMs` after each run finished (never two at once), until stopped. A tick that
 * throws is passed to `onError` and the next one runs as usual.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly tick: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Resolves after the first tick. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.run();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async run(): Promise<void> {
    try {
      await this.tick();
    } catch (err) {
      this.onError(err);
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.run(), this.intervalMs);
    this.timer.unref();
  }
}

/** The object `read` returns, or undefined when it answered 404 (the Kubernetes client's error carries `code`). */
export async function ifFound<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}
