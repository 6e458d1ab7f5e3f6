import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** One row of a suite's figures, printed by `make test` in one table (scripts/test-summary.mjs). */
export type FigureRow = Record<string, string | number>;

function figuresDir(): string {
  return join(resolve(process.env['AGENTSPEC_RESULTS_DIR'] ?? '.test-results'), 'figures');
}

/**
 * Records the figures a hostile-input, fault or secrets suite measured (cases run, 5xx seen, crashes, ...). Rows of
 * one suite accumulate across its tests; the closing summary of `make test` prints them.
 */
export function recordFigures(suite: string, row: FigureRow): void {
  const dir = figuresDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${suite.replace(/[^a-z0-9-]+/gi, '-')}.json`);
  let rows: FigureRow[] = [];
  try {
    rows = JSON.parse(readFileSync(file, 'utf8')) as FigureRow[];
  } catch {
    // first row of this suite
  }
  rows.push(row);
  writeFileSync(file, `${JSON.stringify(rows, null, 2)}\n`);
}
