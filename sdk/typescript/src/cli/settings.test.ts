import { describe, expect, it } from 'vitest';
import { SettingsError, SettingsReader } from './settings.js';

describe('SettingsReader', () => {
  it('prefers the flag, then the environment; empty counts as unset', () => {
    const s = SettingsReader.parse(['--workers=8'], ['workers', 'name'], { WORKERS: '2', NAME: '' });
    expect(s.int('workers', 'WORKERS', 4, 1, 10)).toBe(8);
    expect(s.get('name', 'NAME')).toBeUndefined();
  });

  it('collects every problem, naming flag and variable', () => {
    const s = SettingsReader.parse([], ['n', 'b'], { N: 'x', B: 'yes' });
    s.int('n', 'N', 1, 0, 5);
    s.bool('b', 'B', true);
    expect(() => s.check('operator configuration')).toThrow(SettingsError);
    expect(s.problems).toEqual([
      '--n (N) must be a whole number from 0 to 5, got "x"',
      '--b (B) must be true or false, got "yes"',
    ]);
  });

  it('refuses unknown flags', () => {
    expect(() => SettingsReader.parse(['--nope'], ['n'], {})).toThrow(/Unknown option '--nope'/);
  });
});
