import { SettingsError } from './settings.js';

/** Resolves 0 once SIGTERM or SIGINT arrived and `stop` finished (graceful shutdown of a service). */
export function stopOnSignal(stop: () => Promise<void>, onSignal?: (signal: string) => void): Promise<number> {
  return new Promise((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        onSignal?.(signal);
        void stop().then(() => resolve(0));
      });
    }
  });
}

/**
 * Runs a command's main and exits with its code: 2 (with the problems and the help) for a SettingsError, 1 with
 * the stack for anything unexpected.
 */
export function runCommand(command: string, main: () => Promise<number>, help?: () => string): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof SettingsError) {
        process.stderr.write(`${command}: ${(err as Error).message}\n\n${help?.() ?? ''}`);
        process.exit(2);
      }
      process.stderr.write(`${command}: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}

/**
 * The last resort of a long-running service: an exception or rejection nothing handled is logged and the process
 * keeps serving its other requests (one bad exchange must not end a sidecar or a control plane). Code paths are still
 * expected to handle their own errors; this only keeps a missed one from ending the process.
 */
export function keepServingOnUnhandledErrors(
  log: (err: unknown, kind: 'uncaughtException' | 'unhandledRejection') => void,
): void {
  process.on('uncaughtException', (err) => log(err, 'uncaughtException'));
  process.on('unhandledRejection', (err) => log(err, 'unhandledRejection'));
}

/** True (after printing `help`) when the arguments ask for help: `--help`, `-h`. */
export function printedHelp(args: readonly string[], help: string): boolean {
  if (!args.includes('--help') && !args.includes('-h')) return false;
  process.stdout.write(help.endsWith('\n') ? help : `${help}\n`);
  return true;
}
