// schemathesis (property-based API testing from /api/v1/openapi.json) against a control-plane process on PostgreSQL:
// every operation, with and without credentials, NUL bytes and any Unicode included, stateful links where the
// document has them. Asserted: no 5xx, every answer conforms to the document (status, content type, headers, body).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordFigures, startControlPlaneProcess, type ControlPlaneProcess } from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';

/** Installed by the Makefile into the cached Python tools venv (AGENTSPEC_PYTOOLS). */
const pytools = process.env['AGENTSPEC_PYTOOLS'] ?? '';
const schemathesis = join(pytools, 'bin', 'schemathesis');

interface RunReport {
  exit_code: number;
  operations: { tested: number };
  test_cases: { generated: number; with_failures: number };
  failures: unknown[];
  errors: unknown[];
}

function run(url: string, name: string, args: string[]): Promise<{ report: RunReport; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), `schemathesis-${name}-`));
  const reportPath = join(dir, 'report.json');
  // A schema-valid publicUrl is an https:// URL that may still be refused: no schema can say whether it resolves to
  // a public address and serves an agent card (422, as documented). Elsewhere the default statuses stand.
  writeFileSync(
    join(dir, 'schemathesis.toml'),
    [
      '[[operations]]',
      'include-path = "/api/v1/register"',
      'checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]',
      '',
    ].join('\n'),
  );
  return new Promise((done, fail) => {
    execFile(
      schemathesis,
      [
        'run',
        `${url}/api/v1/openapi.json`,
        '--no-color',
        '--workers=1',
        '--max-examples=25',
        '--report=json',
        `--report-json-path=${reportPath}`,
        '--generation-database=none',
        // The event stream never ends by design: its input handling is covered in hostile-input.int.test.ts.
        '--exclude-path=/api/v1/events',
        ...args,
      ],
      { cwd: dir, env: { ...process.env, SCHEMATHESIS_HOOKS: '' }, maxBuffer: 64 * 1024 * 1024, timeout: 600_000 },
      (err, stdout) => {
        if (!existsSync(reportPath)) return fail(err ?? new Error(`schemathesis wrote no report:\n${stdout}`));
        done({ report: JSON.parse(readFileSync(reportPath, 'utf8')) as RunReport, output: stdout });
      },
    );
  });
}

describe('schemathesis against the control plane on PostgreSQL', () => {
  let cp: ControlPlaneProcess;
  let token = '';
  beforeAll(async () => {
    expect(existsSync(schemathesis), `${schemathesis} (make installs it; set AGENTSPEC_PYTOOLS)`).toBe(true);
    cp = await startControlPlaneProcess({ databaseUrl: await testDatabase(), adminKey: 'schemathesis-admin-key' });
    token = await freshToken();
  }, 120_000);
  // Each run starts with a valid token: POST /api/v1/token/refresh of an earlier run revoked the one before.
  beforeEach(async () => {
    token = await freshToken();
  });
  afterAll(() => cp?.stop());

  /** Registers (or re-registers) the fuzzed instance and sends one heartbeat, so documents exist to be read. */
  async function freshToken(): Promise<string> {
    const headers = { 'content-type': 'application/json', 'x-admin-key': cp.adminKey };
    const registered = await fetch(`${cp.url}/api/v1/register`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ agentName: 'fuzzed', namespace: 'default', instanceId: 'fuzzed-0', runtime: 'k8s' }),
    });
    const apiKey = ((await registered.json()) as { apiKey: string }).apiKey;
    await fetch(`${cp.url}/api/v1/heartbeat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ health: { status: 'healthy' }, gap: { score: 90 }, proof: { records: [] } }),
    });
    return apiKey;
  }

  const credentials = (): string[] => [
    `--header=X-Admin-Key: ${cp.adminKey}`,
    `--header=Authorization: Bearer ${token}`,
  ];
  const runs: [string, () => string[]][] = [
    // Schema-valid data must be accepted: NUL and lone surrogates, which JSON Schema cannot exclude, are left out here.
    [
      'valid and invalid data, with credentials',
      () => [...credentials(), '--checks=all', '--generation-allow-x00=false', '--generation-codec=utf-8'],
    ],
    // Any bytes: what the document allows but the API refuses by design (NUL, lone surrogates) must be a 4xx.
    [
      'hostile bytes, with credentials',
      () => [...credentials(), '--checks=all', '--exclude-checks=positive_data_acceptance'],
    ],
    [
      'hostile bytes, without credentials',
      () => ['--checks=all', '--exclude-checks=positive_data_acceptance,ignored_auth'],
    ],
  ];

  it.each(runs)(
    '%s: no 5xx, every response as documented',
    async (name, args) => {
      const { report, output } = await run(cp.url, name.replace(/\W+/g, '-'), args());
      recordFigures('hostile-input', {
        suite: `schemathesis: ${name}`,
        operations: report.operations.tested,
        cases: report.test_cases.generated,
        '5xx': (output.match(/\[5\d\d\]/g) ?? []).length,
        failures: report.failures.length,
      });
      expect(report.operations.tested).toBeGreaterThanOrEqual(15);
      expect(report.errors, output).toEqual([]);
      expect(report.failures, output).toEqual([]);
      expect(report.exit_code, output).toBe(0);
    },
    300_000,
  );
});
