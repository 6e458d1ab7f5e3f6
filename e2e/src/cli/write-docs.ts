// make docs: regenerates the settings tables of docs/*.md from the services' settings rows.
import { settingsDocs } from '../settings-docs.js';

const updated = settingsDocs(true);
process.stdout.write(updated.length ? `updated ${updated.join(', ')}\n` : 'docs are current\n');
