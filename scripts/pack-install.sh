#!/usr/bin/env bash
# The production install the images contain: each component workspace packed with `npm pack` (what would be
# published) and installed with --omit=dev into an empty directory. Usage: scripts/pack-install.sh OUT_DIR
# (run after `make build`). The Dockerfile runs this same script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="$(mkdir -p "$1" && cd "$1" && pwd)"
packages=(sdk/typescript service-kit dashboard control-plane operator webhook sidecar)
for dir in "${packages[@]}"; do
  [[ -d "$dir/dist" ]] || { echo "pack-install: $dir/dist is missing: run make build first" >&2; exit 1; }
  npm pack --silent --pack-destination "$out" "./$dir" >/dev/null
done
cd "$out"
node - <<'NODE'
const { readdirSync, writeFileSync } = require('node:fs');
const tarballs = readdirSync('.').filter((f) => f.endsWith('.tgz'));
const dependencies = Object.fromEntries(
  tarballs.map((t) => [`@agentspec/${t.replace(/^agentspec-/, '').replace(/-\d+\.\d+\.\d+\.tgz$/, '')}`, `file:./${t}`]),
);
writeFileSync(
  'package.json',
  JSON.stringify({ name: 'agentspec-image', private: true, type: 'module', dependencies, overrides: dependencies }, null, 2),
);
NODE
npm install --omit=dev --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
rm -f ./*.tgz
echo "$out"
