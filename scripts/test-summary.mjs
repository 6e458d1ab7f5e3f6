// Closes `make test`: the figures of the hostile-input, fault and secrets suites as one table, a check that no process
// started by the suite is still running, and one closing line over every tier (vitest's JSON reports and pytest's JUnit XML): "tests: N passed, N failed".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { leftoverProcesses } from './leftover-processes.mjs';

const dir = process.argv[2] ?? '.test-results';

function printFigures() {
  const figuresDir = join(dir, 'figures');
  if (!existsSync(figuresDir)) return;
  const rows = readdirSync(figuresDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => JSON.parse(readFileSync(join(figuresDir, f), 'utf8')));
  if (rows.length === 0) return;
  // suite | cases | what was measured (each suite its own figures: 5xx, crashes, lost, found, ...)
  const table = rows.map(({ suite, cases, ...figures }) => [
    String(suite ?? ''),
    String(cases ?? ''),
    Object.entries(figures)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', '),
  ]);
  const header = ['suite', 'cases', 'figures'];
  const width = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(width[i])).join(' | ')} |`;
  console.log('\nhostile input, faults and secrets:');
  console.log(line(header));
  console.log(line(width.map((w) => '-'.repeat(w))));
  for (const row of table) console.log(line(row));
  console.log('');
}

/** Processes still running a few seconds after the suite: each was started by a test that did not stop it. */
async function checkLeftovers() {
  const deadline = Date.now() + 15_000;
  let left = leftoverProcesses();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500)); // processes that were sent SIGTERM are still exiting
    left = leftoverProcesses();
  }
  for (const p of left) console.log(`left running after the suite: ${p.pid} ${p.cmd}`);
  return left.length;
}

let passed = 0;
let failed = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
}
// The Python SDK's pytest run (JUnit XML): its tests count like any other tier's.
for (const file of readdirSync(dir).filter((f) => f.endsWith('.xml'))) {
  const xml = readFileSync(join(dir, file), 'utf8');
  for (const [, attributes] of xml.matchAll(/<testsuite\b([^>]*)>/g)) {
    const count = (name) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(attributes)?.[1] ?? 0);
    const bad = count('failures') + count('errors');
    passed += count('tests') - bad - count('skipped');
    failed += bad + count('skipped'); // a skipped test is not a passed one
  }
}
printFigures();
const leftovers = await checkLeftovers();
if (leftovers > 0) failed += 1;
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
