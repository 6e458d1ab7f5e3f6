// `make crds`: writes the Agent CRD generated from the schema.
import { writeFileSync } from 'node:fs';
import { renderAgentCrd } from '../crd/render-crd.js';

const target = process.argv[2];
if (!target) {
  process.stderr.write('usage: write-crd <output file>\n');
  process.exit(2);
}
writeFileSync(target, renderAgentCrd());
process.stdout.write(`wrote ${target}\n`);
