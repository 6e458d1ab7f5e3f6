import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sdkDataFiles } from './json-schema.js';

const repo = resolve(import.meta.dirname, '..', '..', '..', '..');

describe('the data the Python SDK ships', () => {
  it.each(Object.entries(sdkDataFiles()))('%s is up to date (run `make sdk-data` when this fails)', (path, text) => {
    expect(readFileSync(resolve(repo, path), 'utf8'), `${path} is stale: run \`make sdk-data\``).toBe(text);
  });
});
