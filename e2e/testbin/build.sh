#!/usr/bin/env bash
# Builds the real Kubernetes test binaries into a version-keyed cache. Only what is missing is built, so a
# warm run takes well under a second. Prints the cache directories, colon-separated, on success.
#   kube-apiserver, kube-controller-manager, kubectl, etcd -> $AGENTSPEC_CACHE/testbin/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION
#   helm                                                    -> $AGENTSPEC_CACHE/testbin/helm-$HELM_VERSION
#   ct (chart-testing) with its chart_schema/lintconf       -> $AGENTSPEC_CACHE/testbin/ct-$CHART_TESTING_VERSION
#   opa (the sidecar's policy tests)                         -> $AGENTSPEC_CACHE/testbin/opa-$OPA_VERSION
#   kube-score (make chart-lint)                             -> $AGENTSPEC_CACHE/testbin/kube-score-$KUBE_SCORE_VERSION
#   actionlint (make lint: .github/workflows)                -> $AGENTSPEC_CACHE/testbin/actionlint-$ACTIONLINT_VERSION
#   the test node: kubelet, kube-scheduler, kube-proxy       -> the k8s directory above
#                  coredns                                   -> $AGENTSPEC_CACHE/testbin/coredns-$COREDNS_VERSION
#                  pause (the sandbox image's program)       -> $AGENTSPEC_CACHE/testbin/pause-<hash of pause/main.go>
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
cache="${AGENTSPEC_CACHE:-$HOME/.cache/agentspec}/testbin"
k8s_dir="$cache/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION"
helm_dir="$cache/helm-$HELM_VERSION"
ct_dir="$cache/ct-$CHART_TESTING_VERSION"
opa_dir="$cache/opa-$OPA_VERSION"
kube_score_dir="$cache/kube-score-$KUBE_SCORE_VERSION"
actionlint_dir="$cache/actionlint-$ACTIONLINT_VERSION"
coredns_dir="$cache/coredns-$COREDNS_VERSION"
pause_dir="$cache/pause-$(sha256sum "$here/pause/main.go" | cut -c1-12)"

log() { echo "testbin: $*" >&2; }
command -v go >/dev/null || { log "Go 1.24 or newer is required to build the test binaries"; exit 1; }
export GOFLAGS="-trimpath" CGO_ENABLED=0

# build MODULE_DIR OUT_DIR BINARY PACKAGE LDFLAGS: builds one binary atomically (tmp file, then rename).
build() {
  local module_dir=$1 out_dir=$2 binary=$3 package=$4 ldflags=$5
  [[ -x "$out_dir/$binary" ]] && return 0
  log "building $binary ($package)"
  mkdir -p "$out_dir"
  (cd "$module_dir" && go build -ldflags "-s -w $ldflags" -o "$out_dir/.$binary.tmp" "$package")
  mv "$out_dir/.$binary.tmp" "$out_dir/$binary"
}

minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
vpkg=k8s.io/component-base/version
k8s_ldflags="-X $vpkg.gitVersion=$KUBERNETES_VERSION -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor"
k8s_ldflags+=" -X $vpkg.gitTreeState=clean -X $vpkg.buildDate=1970-01-01T00:00:00Z"
k8s_ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION"

build "$here" "$k8s_dir" kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$k8s_ldflags"
build "$here" "$k8s_dir" kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$k8s_ldflags"
build "$here" "$k8s_dir" kubectl k8s.io/kubernetes/cmd/kubectl "$k8s_ldflags"
build "$here" "$k8s_dir" etcd go.etcd.io/etcd/server/v3 ""
build "$here" "$k8s_dir" kubelet k8s.io/kubernetes/cmd/kubelet "$k8s_ldflags"
build "$here" "$k8s_dir" kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler "$k8s_ldflags"
build "$here" "$k8s_dir" kube-proxy k8s.io/kubernetes/cmd/kube-proxy "$k8s_ldflags"
build "$here/coredns" "$coredns_dir" coredns github.com/coredns/coredns \
  "-X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION"
build "$here/pause" "$pause_dir" pause . ""
build "$here/tools" "$helm_dir" helm helm.sh/helm/v3/cmd/helm \
  "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
build "$here/tools" "$ct_dir" ct github.com/helm/chart-testing/v3/ct \
  "-X github.com/helm/chart-testing/v3/ct/cmd.Version=$CHART_TESTING_VERSION"
if [[ ! -f "$ct_dir/lintconf.yaml" ]]; then
  # ct reads chart_schema.yaml and lintconf.yaml from next to its binary when no --config names them.
  src="$(cd "$here/tools" && go list -m -f '{{.Dir}}' github.com/helm/chart-testing/v3)/etc"
  install -m 0644 "$src/chart_schema.yaml" "$src/lintconf.yaml" "$ct_dir/"
fi
build "$here/opa" "$opa_dir" opa github.com/open-policy-agent/opa \
  "-X github.com/open-policy-agent/opa/v1/version.Version=${OPA_VERSION#v}"
build "$here/kube-score" "$kube_score_dir" kube-score github.com/zegl/kube-score/cmd/kube-score \
  "-X main.version=${KUBE_SCORE_VERSION#v}"
build "$here/actionlint" "$actionlint_dir" actionlint github.com/rhysd/actionlint/cmd/actionlint \
  "-X github.com/rhysd/actionlint.version=${ACTIONLINT_VERSION#v}"
echo "$k8s_dir:$helm_dir:$ct_dir:$opa_dir:$kube_score_dir:$coredns_dir:$pause_dir:$actionlint_dir"
