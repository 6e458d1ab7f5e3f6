// `make version-check [VERSION=X.Y.Z]`: one version source. The chart's appVersion (or the VERSION given, a release
// tag) must be the chart's version, every workspace package.json's version and the Python SDK's; image tags default to
// the appVersion in the chart. Prints what differs and exits 1, or exits 0 silently.
import { readFileSync } from 'node:fs';

const chart = readFileSync('charts/agentspec/Chart.yaml', 'utf8');
const field = (name) => new RegExp(`^${name}:\\s*['"]?([^'"\\s]+)`, 'm').exec(chart)?.[1];
const wanted = process.argv[2] || field('appVersion');
const found = {
  'charts/agentspec/Chart.yaml version': field('version'),
  'charts/agentspec/Chart.yaml appVersion': field('appVersion'),
};
const root = JSON.parse(readFileSync('package.json', 'utf8'));
for (const workspace of root.workspaces) {
  const pkg = JSON.parse(readFileSync(`${workspace}/package.json`, 'utf8'));
  found[`${workspace}/package.json`] = pkg.version;
}
found['sdk/python/pyproject.toml'] = /^version\s*=\s*"([^"]+)"/m.exec(
  readFileSync('sdk/python/pyproject.toml', 'utf8'),
)?.[1];
found['sdk/python/src/agentspec/__init__.py'] = /__version__\s*=\s*"([^"]+)"/.exec(
  readFileSync('sdk/python/src/agentspec/__init__.py', 'utf8'),
)?.[1];
const wrong = Object.entries(found).filter(([, version]) => version !== wanted);
for (const [where, version] of wrong) console.error(`version-check: ${where} is ${version}, expected ${wanted}`);
process.exit(wrong.length ? 1 : 0);
