// `make sdk-data`: writes the manifest JSON Schema and the audit rules' data the Python SDK ships.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sdkDataFiles } from '../manifest/json-schema.js';

const root = process.argv[2] ?? '.';
for (const [path, text] of Object.entries(sdkDataFiles())) {
  writeFileSync(resolve(root, path), text);
  process.stdout.write(`wrote ${path}\n`);
}
