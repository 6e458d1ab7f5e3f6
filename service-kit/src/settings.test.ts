import { describe, expect, it } from 'vitest';
import {
  readSettings,
  settingsHelp,
  settingsMarkdown,
  SettingsError,
  withSettingsBlock,
  type SettingsTable,
} from './settings.js';

const table = {
  workers: { type: 'int', flag: 'workers', env: 'WORKERS', default: 4, min: 1, max: 10, help: 'workers' },
  name: { type: 'optional', flag: 'name', env: 'NAME', shown: '(none)', help: 'a name' },
  elect: { type: 'bool', flag: 'elect', env: 'ELECT', default: true, help: 'elect | or not' },
  mode: { type: 'string', flag: 'mode', env: 'MODE', default: 'a', values: ['a', 'b'], help: 'mode' },
  hosts: { type: 'list', flag: 'hosts', env: 'HOSTS', shown: '(none)', help: 'hosts' },
  key: { type: 'secret', env: 'KEY', help: 'environment only' },
} as const satisfies SettingsTable;

describe('readSettings', () => {
  it('prefers the flag, then the environment, then the default; empty counts as unset', () => {
    const s = readSettings(table, {
      argv: ['--workers=8'],
      env: { WORKERS: '2', NAME: '', HOSTS: 'a, b,,c', KEY: 'k' },
    });
    expect(s).toEqual({ workers: 8, name: undefined, elect: true, mode: 'a', hosts: ['a', 'b', 'c'], key: 'k' });
  });

  it('collects every problem, naming flag and variable, with the checks that span rows', () => {
    let error: unknown;
    try {
      readSettings(table, {
        env: { WORKERS: 'x', ELECT: 'yes', MODE: 'c' },
        what: 'operator configuration',
        validate: (_v, problems) => problems.push('a rule across rows'),
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).problems).toEqual([
      '--workers (WORKERS) must be a whole number from 1 to 10, got "x"',
      '--elect (ELECT) must be true or false, got "yes"',
      '--mode (MODE) must be a or b, got "c"',
      'a rule across rows',
    ]);
    expect((error as Error).message).toMatch(/^invalid operator configuration:\n {2}- --workers/);
  });

  it('refuses unknown flags, and never reads an environment-only setting from a flag', () => {
    expect(() => readSettings(table, { argv: ['--nope'], env: {} })).toThrow(/Unknown option '--nope'/);
    expect(() => readSettings(table, { argv: ['--key=x'], env: {} })).toThrow(/Unknown option '--key'/);
  });

  it('makes --help and the docs table from the same rows', () => {
    const help = settingsHelp('does things', 'cmd', table);
    expect(help).toContain('Usage: cmd [flags]');
    expect(help).toMatch(/--workers\s+WORKERS\s+workers \[4\]/);
    expect(help).toMatch(/\s{31}KEY\s+environment only \[\(none\)\]/);
    const markdown = settingsMarkdown(table);
    expect(markdown.split('\n')[0]).toBe('| flag | environment | default | meaning |');
    expect(markdown).toContain('| `--elect` | `ELECT` | true | elect \\| or not |');
    expect(markdown).toContain('| — | `KEY` | (none) | environment only |');
    const doc = 'before\n<!-- settings:cmd -->\nstale\n<!-- /settings -->\nafter\n';
    expect(withSettingsBlock(doc, 'cmd', table)).toBe(
      `before\n<!-- settings:cmd -->\n${markdown}<!-- /settings -->\nafter\n`,
    );
    expect(() => withSettingsBlock('no block', 'cmd', table)).toThrow(/no <!-- settings:cmd -->/);
  });
});
