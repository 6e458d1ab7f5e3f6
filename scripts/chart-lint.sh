#!/usr/bin/env bash
# helm lint --strict and chart-testing's lint (yamllint + yamale, maintainer validation off) of charts/agentspec,
# with the pinned helm and ct from the test-binary cache and yamale from $PYTOOLS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=../e2e/testbin/versions.env
source e2e/testbin/versions.env
bin="${AGENTSPEC_CACHE:-$HOME/.cache/agentspec}/testbin"
helm_dir="$bin/helm-$HELM_VERSION"
ct_dir="$bin/ct-$CHART_TESTING_VERSION"
export PATH="$helm_dir:${PYTOOLS:?set PYTOOLS to the yamale venv}/bin:$PATH"
command -v yamllint >/dev/null || { echo "chart-lint: yamllint is missing (apt-get install yamllint)" >&2; exit 1; }
helm lint --strict charts/agentspec
for values in charts/agentspec/ci/*-values.yaml; do
  helm lint --strict charts/agentspec --values "$values" >/dev/null
done
"$ct_dir/ct" lint --charts charts/agentspec --validate-maintainers=false \
  --chart-yaml-schema "$ct_dir/chart_schema.yaml" --lint-conf "$ct_dir/lintconf.yaml"
