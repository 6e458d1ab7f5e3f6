import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..');
const appVersion = /^appVersion:\s*['"]?([^'"\s]+)/m.exec(
  readFileSync(resolve(root, 'charts/agentspec/Chart.yaml'), 'utf8'),
)?.[1];
const check = (...args: string[]) =>
  run(process.execPath, ['scripts/version-check.mjs', ...args], { cwd: root }).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
  );

describe('one version source (make version-check)', () => {
  it("every package, the chart and the Python SDK carry the chart's appVersion", async () => {
    expect(await check()).toEqual({ code: 0, stderr: '' });
  });

  it('names each manifest that does not carry the version a release tag asks for', async () => {
    const result = await check('9.9.9');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`charts/agentspec/Chart.yaml appVersion is ${appVersion}, expected 9.9.9`);
    expect(result.stderr).toContain(`sdk/python/pyproject.toml is ${appVersion}, expected 9.9.9`);
    expect(result.stderr).toContain(`dashboard/package.json is ${appVersion}, expected 9.9.9`);
  });
});
