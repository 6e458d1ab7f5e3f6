import { parseArgs } from 'node:util';

/**
 * One setting of a service, written once: its flag (none: environment only), environment variable, type, default,
 * range and help. The reader, `--help` and the tables in docs/ are all made from these rows.
 */
export type Setting =
  | { type: 'int'; flag?: string; env: string; default: number; min: number; max: number; help: string }
  | { type: 'bool'; flag?: string; env: string; default: boolean; help: string }
  | { type: 'string'; flag?: string; env: string; default: string; help: string; values?: readonly string[] }
  | { type: 'optional'; flag?: string; env: string; shown: string; help: string }
  | { type: 'list'; flag?: string; env: string; shown: string; help: string }
  | { type: 'secret'; env: string; help: string };

export type SettingsTable = Record<string, Setting>;

/** The value a row reads as. */
export type SettingValue<S extends Setting> = S extends { type: 'int' }
  ? number
  : S extends { type: 'bool' }
    ? boolean
    : S extends { type: 'string' }
      ? string
      : S extends { type: 'list' }
        ? string[] | undefined
        : string | undefined;

export type SettingsValues<T extends SettingsTable> = { [K in keyof T]: SettingValue<T[K]> };

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

const label = (s: Setting): string => ('flag' in s && s.flag ? `--${s.flag} (${s.env})` : s.env);

/** What --help and the docs show as a row's default. */
export function shownDefault(s: Setting): string {
  switch (s.type) {
    case 'optional':
    case 'list':
      return s.shown;
    case 'secret':
      return '(none)';
    default:
      return String(s.default);
  }
}

function readOne(s: Setting, raw: string | undefined, problems: string[]): unknown {
  if (raw === undefined) {
    return s.type === 'int' || s.type === 'bool' || s.type === 'string' ? s.default : undefined;
  }
  switch (s.type) {
    case 'int': {
      const value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (value >= s.min && value <= s.max) return value;
      problems.push(`${label(s)} must be a whole number from ${s.min} to ${s.max}, got "${raw}"`);
      return s.default;
    }
    case 'bool':
      if (raw === 'true' || raw === 'false') return raw === 'true';
      problems.push(`${label(s)} must be true or false, got "${raw}"`);
      return s.default;
    case 'string':
      if (!s.values || s.values.includes(raw)) return raw;
      problems.push(`${label(s)} must be ${s.values.join(' or ')}, got "${raw}"`);
      return s.default;
    case 'list':
      return raw
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

/**
 * Reads every row: its `--flag` when given, else its environment variable (an empty value counts as unset), else its
 * default. An unknown flag throws a SettingsError at once; every other problem is collected and thrown together, so a
 * command reports them all. `validate` adds the checks that span rows.
 */
export interface ReadSettingsOptions<T extends SettingsTable> {
  /** Command-line arguments (flags); none for environment-only services. */
  argv?: readonly string[];
  env: NodeJS.ProcessEnv;
  /** What the errors call it, e.g. "operator configuration". */
  what?: string;
  /** Checks that span rows; push a problem per failure. */
  validate?: (values: SettingsValues<T>, problems: string[]) => void;
  /** The command's own SettingsError class (settingsErrorClass) for its problems. */
  error?: new (problems: string[]) => Error;
}

export function readSettings<T extends SettingsTable>(table: T, options: ReadSettingsOptions<T>): SettingsValues<T> {
  const { argv = [], env, validate } = options;
  const error = (problems: string[]): Error =>
    options.error ? new options.error(problems) : new SettingsError(problems, options.what);
  const flags = Object.values(table).flatMap((s) => ('flag' in s && s.flag ? [s.flag] : []));
  let given: Record<string, string | undefined>;
  try {
    const options = Object.fromEntries(flags.map((flag) => [flag, { type: 'string' as const }]));
    given = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as typeof given;
  } catch (err) {
    throw error([(err as Error).message]);
  }
  const problems: string[] = [];
  const values = Object.fromEntries(
    Object.entries(table).map(([key, s]) => {
      const raw = ('flag' in s && s.flag ? given[s.flag] : undefined) ?? env[s.env];
      return [key, readOne(s, raw === '' ? undefined : raw, problems)];
    }),
  ) as SettingsValues<T>;
  validate?.(values, problems);
  if (problems.length) throw error(problems);
  return values;
}

const hasFlags = (table: SettingsTable): boolean => Object.values(table).some((s) => 'flag' in s && s.flag);

/** The --help text of a long-running command, from its settings table (flags, or environment only). */
export function settingsHelp(title: string, command: string, table: SettingsTable): string {
  const flags = hasFlags(table);
  const width = Math.min(42, Math.max(28, ...Object.values(table).map((s) => s.env.length + 1)));
  const flagColumn = (s: Setting): string =>
    flags ? `${('flag' in s && s.flag ? `--${s.flag}` : '').padEnd(30)} ` : '';
  const lines = Object.values(table).map(
    (s) => `  ${flagColumn(s)}${s.env.padEnd(width)} ${s.help} [${shownDefault(s)}]`,
  );
  const header = `  ${flags ? `${'flag'.padEnd(30)} ` : ''}${'environment'.padEnd(width)} meaning [default]`;
  const usage = flags ? `\n\nUsage: ${command} [flags]` : '';
  return `${command}: ${title}${usage}\n\n${header}\n${lines.join('\n')}\n${flags ? '  --help\n' : ''}`;
}

const cell = (text: string): string => text.replaceAll('|', '\\|');

/** The settings table as Markdown, as docs/<component>.md shows it between `<!-- settings:NAME -->` markers. */
export function settingsMarkdown(table: SettingsTable): string {
  const withFlags = hasFlags(table);
  const header = withFlags
    ? '| flag | environment | default | meaning |\n|---|---|---|---|'
    : '| environment | default | meaning |\n|---|---|---|';
  const rows = Object.values(table).map((s) => {
    const flag = 'flag' in s && s.flag ? `\`--${s.flag}\`` : '—';
    const rest = `\`${s.env}\` | ${cell(shownDefault(s))} | ${cell(s.help)} |`;
    return withFlags ? `| ${flag} | ${rest}` : `| ${rest}`;
  });
  return `${header}\n${rows.join('\n')}\n`;
}

/** Replaces the block between `<!-- settings:NAME -->` and `<!-- /settings -->` in a document. */
export function withSettingsBlock(document: string, name: string, table: SettingsTable): string {
  const start = `<!-- settings:${name} -->\n`;
  const end = '<!-- /settings -->';
  const from = document.indexOf(start);
  const to = document.indexOf(end, from);
  if (from < 0 || to < 0) throw new Error(`no <!-- settings:${name} --> ... <!-- /settings --> block`);
  return `${document.slice(0, from + start.length)}${settingsMarkdown(table)}${document.slice(to)}`;
}

/** The rows every Kubernetes-facing command has: its kubeconfig and its log level. */
export const KUBE_COMMAND_SETTINGS = {
  kubeconfig: {
    type: 'optional',
    flag: 'kubeconfig',
    env: 'KUBECONFIG',
    shown: '(in-cluster, then ~/.kube/config)',
    help: 'kubeconfig file',
  },
  logLevel: { type: 'string', flag: 'log-level', env: 'LOG_LEVEL', default: 'info', help: 'pino log level' },
} as const satisfies SettingsTable;

/** Row constructors: one line a setting keeps the tables short enough to read at a glance. */
export const setting = {
  int: (flag: string | undefined, env: string, value: number, [min, max]: [number, number], help: string) =>
    ({ type: 'int', ...(flag ? { flag } : {}), env, default: value, min, max, help }) as const,
  bool: (flag: string | undefined, env: string, value: boolean, help: string) =>
    ({ type: 'bool', ...(flag ? { flag } : {}), env, default: value, help }) as const,
  string: (flag: string | undefined, env: string, value: string, help: string, values?: readonly string[]) =>
    ({ type: 'string', ...(flag ? { flag } : {}), env, default: value, help, ...(values ? { values } : {}) }) as const,
  optional: (flag: string | undefined, env: string, shown: string, help: string) =>
    ({ type: 'optional', ...(flag ? { flag } : {}), env, shown, help }) as const,
  list: (flag: string | undefined, env: string, shown: string, help: string) =>
    ({ type: 'list', ...(flag ? { flag } : {}), env, shown, help }) as const,
  secret: (env: string, help: string) => ({ type: 'secret', env, help }) as const,
};

/** A command's own SettingsError subclass, named for it (`instanceof` tells the commands' errors apart). */
export function settingsErrorClass(name: string, what: string) {
  const ErrorClass = class extends SettingsError {
    constructor(problems: string[]) {
      super(problems, what);
      this.name = name;
    }
  };
  Object.defineProperty(ErrorClass, 'name', { value: name });
  return ErrorClass;
}
