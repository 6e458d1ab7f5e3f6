import { parseArgs } from 'node:util';

/** A bad setting of a command: every problem, each naming its flag and environment variable. */
export class SettingsError extends Error {
  constructor(
    readonly problems: string[],
    what = 'configuration',
  ) {
    super(`invalid ${what}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

/**
 * Reads a command's settings from `--flag` values and, when a flag is absent, its environment variable; an empty
 * value counts as unset. Problems are collected (`problems`) so a command reports them all at once. Shared by the
 * operator and the webhook.
 */
export class SettingsReader {
  readonly problems: string[] = [];

  private constructor(
    private readonly values: Record<string, string | undefined>,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Parses `argv` (strict: an unknown flag is a SettingsError) against the known flags. */
  static parse(argv: string[], flags: readonly string[], env: NodeJS.ProcessEnv, what?: string): SettingsReader {
    const options = Object.fromEntries(flags.map((flag) => [flag, { type: 'string' as const }]));
    try {
      const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
      return new SettingsReader(values as Record<string, string | undefined>, env);
    } catch (err) {
      throw new SettingsError([(err as Error).message], what);
    }
  }

  get(flag: string, name: string): string | undefined {
    const value = this.values[flag] ?? this.env[name];
    return value === '' ? undefined : value;
  }

  int(flag: string, name: string, fallback: number, min: number, max: number): number {
    const raw = this.get(flag, name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`--${flag} (${name}) must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  bool(flag: string, name: string, fallback: boolean): boolean {
    const raw = this.get(flag, name);
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    this.problems.push(`--${flag} (${name}) must be true or false, got "${raw}"`);
    return fallback;
  }

  list(flag: string, name: string): string[] | undefined {
    const raw = this.get(flag, name);
    return raw === undefined
      ? undefined
      : raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  }

  /** Throws a SettingsError when any problem was found. */
  check(what?: string): void {
    if (this.problems.length) throw new SettingsError(this.problems, what);
  }
}
