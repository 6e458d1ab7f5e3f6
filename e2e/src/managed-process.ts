import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface ManagedProcessOptions {
  /** Short name used in errors, e.g. "kube-apiserver". */
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logPath: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Survive the parent's exit (make cluster-up). */
  detached?: boolean;
}

/** Raised when a component exits early or does not become ready in time; carries the component's log tail. */
export class ComponentError extends Error {
  constructor(
    readonly component: string,
    reason: string,
    readonly logTail: string,
  ) {
    super(
      `${component}: ${reason}\n--- last lines of the ${component} log ---\n${logTail}\n--- end of ${component} log ---`,
    );
    this.name = 'ComponentError';
  }
}

export function tailOfFile(path: string, lines = 40): string {
  try {
    const text = readFileSync(path, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).join('\n') || '(empty log)';
  } catch {
    return '(no log written)';
  }
}

/** A child process whose output goes to a log file, stopped by its PID. */
export class ManagedProcess {
  readonly pid: number;
  private readonly child: ChildProcess;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private spawnError: Error | undefined;
  private readonly exited: Promise<void>;

  constructor(readonly options: ManagedProcessOptions) {
    const fd = openSync(options.logPath, 'a');
    try {
      this.child = spawn(options.command, options.args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['ignore', fd, fd],
        detached: options.detached ?? false,
      });
    } finally {
      closeSync(fd);
    }
    // Listen before anything can throw: a spawn failure (ENOENT, EACCES) arrives as an 'error' event.
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
      this.child.once('error', (err) => {
        this.exitInfo = { code: null, signal: null };
        this.spawnError = err;
        resolve();
      });
    });
    if (this.child.pid === undefined) {
      throw new ComponentError(
        options.name,
        `could not start ${options.command} (missing or not executable)`,
        tailOfFile(options.logPath),
      );
    }
    this.pid = this.child.pid;
    if (options.detached) this.child.unref();
  }

  get name(): string {
    return this.options.name;
  }

  /** How the process ended: undefined while it runs. */
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exitInfo;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  logTail(lines = 40): string {
    return tailOfFile(this.options.logPath, lines);
  }

  /** Throws a ComponentError if the process has already exited. */
  assertRunning(): void {
    if (this.exitInfo === undefined) return;
    const how = this.spawnError
      ? `failed to start: ${this.spawnError.message}`
      : `exited early (code ${this.exitInfo.code}, signal ${this.exitInfo.signal})`;
    throw new ComponentError(this.name, how, this.logTail());
  }

  /**
   * Polls `probe` until it returns true, failing fast when the process exits and after `timeoutMs`
   * with the log tail, so a broken component never hangs a test run.
   */
  async waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 200): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    for (;;) {
      this.assertRunning();
      try {
        if (await probe()) return;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
      if (Date.now() > deadline) {
        const suffix = lastError ? ` (last probe error: ${lastError})` : '';
        throw new ComponentError(this.name, `not ${what} after ${timeoutMs} ms${suffix}`, this.logTail());
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** SIGKILL, no grace: a crash. Resolves once the process is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const killed = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), graceMs)),
    ]);
    if (!killed) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** Whether a process of this PID exists (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a process known only by PID (from a state file), SIGTERM then SIGKILL. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  const alive = (): boolean => isAlive(pid);
  if (!alive()) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(pid, 'SIGKILL');
}
