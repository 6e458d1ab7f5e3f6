# Entry points a person types. Every target runs on the pinned Node 24 (installed into the cache on first use)
# and installs what it needs itself: `make test` works on a fresh clone.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export AGENTSPEC_CACHE ?= $(HOME)/.cache/agentspec
NODE_VERSION := $(shell cat .node-version)
NODE_DIR := $(AGENTSPEC_CACHE)/node-v$(NODE_VERSION)
NODE := $(NODE_DIR)/bin/node
export PATH := $(NODE_DIR)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
# npm's update check and funding notices are noise in CI logs.
export npm_config_update_notifier := false
export npm_config_fund := false
export npm_config_audit := false

DEPS_STAMP := node_modules/.agentspec-deps
# Python tools from PyPI in a version-keyed venv in the cache: yamale (chart-testing validates Chart.yaml with it) and
# schemathesis (the control plane's API fuzzing in test-int).
YAMALE_VERSION := 6.0.0
SCHEMATHESIS_VERSION := 4.32.5
PYTOOLS := $(AGENTSPEC_CACHE)/pytools-yamale-$(YAMALE_VERSION)-schemathesis-$(SCHEMATHESIS_VERSION)
export AGENTSPEC_PYTOOLS := $(PYTOOLS)
# The Python SDK (sdk/python): its tools in a venv in the cache keyed by the hash of requirements-dev.txt, and the
# wheel built from the sources installed into it (the int and e2e tiers run Python agents with that venv).
PY_SDK := sdk/python
PY_VENV := $(AGENTSPEC_CACHE)/pysdk-$(shell sha256sum $(PY_SDK)/requirements-dev.txt | cut -c1-12)
export AGENTSPEC_PY_VENV := $(PY_VENV)
PY_SOURCES := $(shell find $(PY_SDK)/src -type f -not -path '*/__pycache__/*') $(PY_SDK)/pyproject.toml $(PY_SDK)/README.md
PY_WHEEL_STAMP := $(PY_VENV)/.agentspec-wheel
WORKSPACE_MANIFESTS := package.json package-lock.json $(wildcard */package.json sdk/*/package.json)
CLUSTER_DIR := $(AGENTSPEC_CACHE)/cluster
RESULTS := .test-results
# Each tier also writes a JSON report so that `make test` can close with one "N passed, N failed" line.
VITEST = npx vitest run --reporter=default --reporter=json --outputFile.json=$(RESULTS)/$(1).json --config vitest.$(1).config.ts

.PHONY: kind-e2e chart-package version-check python-sdk test-python sdk-data test-vectors help node deps build bench soak docs crds demo images typecheck lint chart-lint format test test-unit test-int e2e testbin cluster-up cluster-down clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(NODE):
	scripts/ensure-node.sh

node: $(NODE) ## Install the pinned Node 24 into the cache

$(DEPS_STAMP): $(WORKSPACE_MANIFESTS) | $(NODE)
	npm ci --no-audit --no-fund
	touch $@

deps: $(DEPS_STAMP) ## npm ci (only when the lockfile changed)

build: deps ## Compile every package (tsc -b) and build the dashboard (vite)
	npx tsc -b
	npm run build --silent --workspace=@agentspec/dashboard

docs: build ## Regenerate the settings tables of docs/*.md from the services' settings rows (a unit test fails when stale)
	node e2e/dist/cli/write-docs.js

crds: build ## Regenerate crds/ from the SDK's schema (a unit test fails when the committed CRD is stale)
	node sdk/typescript/dist/bin/write-crd.js crds/agentspec.io_agents.yaml
	cp crds/agentspec.io_agents.yaml charts/agentspec/files/crds/agentspec.io_agents.yaml

sdk-data: build ## Regenerate the manifest JSON Schema and audit rules the Python SDK ships (a unit test fails when stale)
	node sdk/typescript/dist/bin/write-sdk-data.js

test-vectors: build ## Rewrite the expected values of sdk/test-vectors (run by both SDKs' tests) from the TypeScript SDK
	node sdk/typescript/dist/bin/write-test-vectors.js

$(PY_VENV)/bin/pytest: $(PY_SDK)/requirements-dev.txt
	python3 -m venv $(PY_VENV)
	$(PY_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

$(PY_WHEEL_STAMP): $(PY_VENV)/bin/pytest $(PY_SOURCES)
	rm -rf $(PY_SDK)/dist
	$(PY_VENV)/bin/pip wheel --quiet --disable-pip-version-check --no-build-isolation --no-deps -w $(PY_SDK)/dist ./$(PY_SDK)
	$(PY_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --force-reinstall $(PY_SDK)/dist/agentspec-*.whl
	touch $@

python-sdk: $(PY_WHEEL_STAMP) ## Build the Python SDK's wheel and install it into its cached venv

test-python: python-sdk ## The Python SDK and its example agent: ruff, mypy --strict, pytest (on the installed wheel)
	cd $(PY_SDK) && $(PY_VENV)/bin/ruff check . ../../examples/python-agent
	cd $(PY_SDK) && $(PY_VENV)/bin/ruff format --check . ../../examples/python-agent
	cd $(PY_SDK) && $(PY_VENV)/bin/mypy && $(PY_VENV)/bin/mypy ../../examples/python-agent/app.py
	mkdir -p $(RESULTS)
	cd $(PY_SDK) && $(PY_VENV)/bin/pytest -p no:cacheprovider --junitxml=$(CURDIR)/$(RESULTS)/python.xml

typecheck: build ## Type-check sources and tests
	npx tsc -p tsconfig.test.json
	npx tsc -p dashboard/tsconfig.json

ACTIONLINT := $(AGENTSPEC_CACHE)/testbin/actionlint-$(shell sed -n 's/^ACTIONLINT_VERSION=//p' e2e/testbin/versions.env)/actionlint

lint: deps testbin ## eslint, prettier --check, no import cycle (dpdm, type-only imports included), actionlint
	$(ACTIONLINT) -color
	npx eslint .
	npx prettier --check .
	npx dpdm --no-warning --no-tree --exit-code circular:1 $(foreach p,sdk/typescript operator webhook control-plane sidecar e2e bench,'$(p)/src/**/*.ts')

format: deps ## Rewrite files with prettier
	npx prettier --write .

$(PYTOOLS)/bin/yamale $(PYTOOLS)/bin/schemathesis &:
	python3 -m venv $(PYTOOLS)
	$(PYTOOLS)/bin/pip install --quiet --disable-pip-version-check yamale==$(YAMALE_VERSION) schemathesis==$(SCHEMATHESIS_VERSION)

chart-lint: testbin $(PYTOOLS)/bin/yamale ## helm lint --strict and ct lint (yamllint, yamale) of charts/agentspec
	PYTOOLS=$(PYTOOLS) scripts/chart-lint.sh

# One version source: the chart's appVersion. The chart's version, every package.json and the Python SDK carry it too
# (`make version-check`, run by the release workflow and by a unit test).
CHART_REPO_URL ?= https://agentspec.github.io/agentspec-k8s
CHART_DIST := dist/chart
HELM = $(AGENTSPEC_CACHE)/testbin/helm-$(shell sed -n 's/^HELM_VERSION=//p' e2e/testbin/versions.env)/helm

version-check: ## Check that every manifest carries the chart's appVersion (or VERSION=X.Y.Z)
	@node scripts/version-check.mjs $(VERSION)

chart-package: testbin ## The chart's .tgz and a chart repository index.yaml in dist/chart (CHART_REPO_URL: where it is served)
	rm -rf $(CHART_DIST) && mkdir -p $(CHART_DIST)
	$(HELM) package charts/agentspec --destination $(CHART_DIST)
	$(HELM) repo index $(CHART_DIST) --url $(CHART_REPO_URL)

IMAGE_REGISTRY ?= ghcr.io/agentspec
APP_VERSION := $(shell sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}/\1/p' charts/agentspec/Chart.yaml)

images: ## Build the operator, webhook, control-plane and sidecar images (needs docker or podman)
	@engine="$$(command -v docker || command -v podman || true)"; \
	if [[ -z "$$engine" ]]; then echo "make images: no docker or podman here (the image content is tested by e2e/tests/images)"; exit 1; fi; \
	for target in operator webhook control-plane sidecar; do \
	  "$$engine" build --target "$$target" -t "$(IMAGE_REGISTRY)/$$target:$(APP_VERSION)" . ; \
	done

testbin: ## Build kube-apiserver, kube-controller-manager, kubectl, etcd, helm and ct (only what is missing)
	@e2e/testbin/build.sh >/dev/null

test-unit: deps ## Unit tests (pure logic)
	$(call VITEST,unit)

test-int: build testbin python-sdk $(PYTOOLS)/bin/schemathesis ## Integration tests against real servers (test cluster, PostgreSQL)
	$(call VITEST,int)

e2e: build testbin python-sdk ## End-to-end tests on the real test cluster
	$(call VITEST,e2e)

test: ## Everything CI runs: lint, chart lint, typecheck, unit, integration, e2e
	rm -rf $(RESULTS)
	$(MAKE) --no-print-directory lint chart-lint typecheck test-unit test-python test-int e2e
	node scripts/test-summary.mjs $(RESULTS)

soak: build testbin ## The long fault runs: the control plane SIGKILLed under 1,000 heartbeating instances
	FAULT_INSTANCES=1000 npx vitest run --config vitest.int.config.ts control-plane/src/faults.int.test.ts

bench: build ## Benchmarks with ratios against baselines measured in the same run (not part of make test)
	node bench/dist/heartbeat.js
	node bench/dist/operator.js
	node bench/dist/webhook.js
	node bench/dist/sidecar.js
	node bench/dist/events.js
	node bench/dist/connect.js

kind-e2e: build testbin ## The shared end-to-end scenario on a kind cluster (needs a running Docker engine and Go; see README)
	node e2e/dist/cli/kind-e2e.js $(if $(KEEP),--keep)

demo: build testbin ## The whole product on a local cluster with the example agent, until Ctrl-C
	node e2e/dist/cli/demo.js

cluster-up: build testbin ## Start a test cluster in the background and print its KUBECONFIG
	@node e2e/dist/cli/cluster-up.js --dir "$(CLUSTER_DIR)"

cluster-down: deps ## Stop the cluster started by cluster-up
	@node e2e/dist/cli/cluster-down.js --dir "$(CLUSTER_DIR)"

clean: ## Remove build output (keeps the cache)
	rm -rf node_modules */dist sdk/*/dist dist $(RESULTS) $(PY_SDK)/src/*.egg-info
