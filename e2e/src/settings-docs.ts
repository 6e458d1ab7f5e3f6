import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SETTINGS as CONTROL_PLANE } from '@agentspec/control-plane';
import { SETTINGS as OPERATOR } from '@agentspec/operator';
import { withSettingsBlock, type SettingsTable } from '@agentspec/service-kit';
import { SETTINGS as SIDECAR } from '@agentspec/sidecar';
import { SETTINGS as WEBHOOK } from '@agentspec/webhook';

const root = resolve(import.meta.dirname, '..', '..');

/** Each service's settings table and the document that shows it between `<!-- settings:NAME -->` markers. */
export const SETTINGS_DOCS: { name: string; doc: string; table: SettingsTable }[] = [
  { name: 'control-plane', doc: 'docs/control-plane.md', table: CONTROL_PLANE },
  { name: 'operator', doc: 'docs/operator.md', table: OPERATOR },
  { name: 'webhook', doc: 'docs/webhook.md', table: WEBHOOK },
  { name: 'sidecar', doc: 'docs/sidecar.md', table: SIDECAR },
];

/** The documents as they should read; `write` updates the files (`make docs`). Returns the stale ones. */
export function settingsDocs(write = false): string[] {
  const stale: string[] = [];
  for (const { name, doc, table } of SETTINGS_DOCS) {
    const path = join(root, doc);
    const current = readFileSync(path, 'utf8');
    const wanted = withSettingsBlock(current, name, table);
    if (wanted === current) continue;
    stale.push(doc);
    if (write) writeFileSync(path, wanted);
  }
  return stale;
}
