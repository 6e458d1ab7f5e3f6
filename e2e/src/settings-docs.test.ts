import { describe, expect, it } from 'vitest';
import { settingsDocs } from './settings-docs.js';

describe('settings tables in docs/', () => {
  it('are the services’ settings rows (run `make docs` after changing a setting)', () => {
    expect(settingsDocs()).toEqual([]);
  });
});
