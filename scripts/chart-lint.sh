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
kube_score="$bin/kube-score-$KUBE_SCORE_VERSION/kube-score"
export PATH="$helm_dir:${PYTOOLS:?set PYTOOLS to the yamale venv}/bin:$PATH"
command -v yamllint >/dev/null || { echo "chart-lint: yamllint is missing (apt-get install yamllint)" >&2; exit 1; }
helm lint --strict charts/agentspec
for values in charts/agentspec/ci/*-values.yaml; do
  helm lint --strict charts/agentspec --values "$values" >/dev/null
done
"$ct_dir/ct" lint --charts charts/agentspec --validate-maintainers=false \
  --chart-yaml-schema "$ct_dir/chart_schema.yaml" --lint-conf "$ct_dir/lintconf.yaml"
# kube-score on what users install (defaults, the user's flags, each ci/ values file): no CRITICAL finding except the
# exceptions charts/agentspec/README.md lists with their reasons (the two flags below, and the per-object
# kube-score/ignore annotations in the templates).
# (A given apiKey: without a cluster the chart refuses to generate keys.)
renders=("" "--set controlPlane.enabled=true --set webhook.enabled=true --set controlPlane.apiKey=lint-admin-key-0123456789abcdef")
for values in charts/agentspec/ci/*-values.yaml; do renders+=("--values $values"); done
for flags in "${renders[@]}"; do
  # shellcheck disable=SC2086 # flags are words
  helm template agentspec charts/agentspec -n agentspec-system --kube-version "${KUBERNETES_VERSION#v}" $flags |
    "$kube_score" score - --output-format ci --ignore-container-cpu-limit --ignore-test container-image-pull-policy |
    { ! grep '\[CRITICAL\]'; } || { echo "chart-lint: kube-score reports CRITICAL findings for: helm template ${flags:-(defaults)}" >&2; exit 1; }
done
