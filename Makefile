# elbgateway build and test entry points. `make help` lists them.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO ?= go
# The controller ships as a static binary; vet, test and build it the same way so the three
# share one build cache entry per package.
GO_STATIC := CGO_ENABLED=0 $(GO)
# The demo subcommand (and its local kube-apiserver, moto and data plane) is in the binary only
# with this build tag: `make demo` and the tests build with it, the shipped controller without.
DEMO_TAGS := -tags demo

# The kube-apiserver and etcd releases are pinned by the wrapper modules under tools/; the
# versions below are read from there, so the cache directory always names what it holds.
KUBE_VERSION := $(shell cd tools/kube-apiserver && $(GO) list -m -f '{{.Version}}' k8s.io/kubernetes)
ETCD_VERSION := $(shell cd tools/etcd && $(GO) list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)

# Built binaries live outside the clone, keyed by version, so a fresh clone finds them.
CACHE_DIR := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/elbgateway
KUBE_APISERVER_CACHED := $(CACHE_DIR)/kube-apiserver-$(KUBE_VERSION)/kube-apiserver
ETCD_CACHED := $(CACHE_DIR)/etcd-$(ETCD_VERSION)/etcd
# The conformance run's cluster: the rest of the control plane, kwok for Pods without a kubelet,
# and the suite's echo-basic backend. Read lazily (=): only the conformance targets need them.
KCM_CACHED = $(CACHE_DIR)/kube-controller-manager-$(KUBE_VERSION)/kube-controller-manager
SCHEDULER_CACHED = $(CACHE_DIR)/kube-scheduler-$(KUBE_VERSION)/kube-scheduler
KWOK_VERSION = $(shell cd tools/kwok && $(GO) list -m -f '{{.Version}}' sigs.k8s.io/kwok)
KWOK_CACHED = $(CACHE_DIR)/kwok-$(KWOK_VERSION)/kwok
CONFORMANCE_VERSION = $(shell cd test/conformance && $(GO) list -m -f '{{.Version}}' sigs.k8s.io/gateway-api/conformance)
ECHO_BASIC_CACHED = $(CACHE_DIR)/echo-basic-$(CONFORMANCE_VERSION)/echo-basic

# What the test harness (internal/testenv) and envtest read to find the binaries.
ASSETS := $(CURDIR)/bin
TEST_ENV := ELBGATEWAY_ASSETS=$(ASSETS) KUBEBUILDER_ASSETS=$(ASSETS)
TEST_TIMEOUT ?= 15m
# Flags for the demo subcommand, e.g. `make demo DEMO_ARGS=--exit-after-ready`.
DEMO_ARGS ?=
# Packages that test, bench and vet cover; narrow it with `make test PKGS=./internal/translate/...`.
PKGS ?= ./...
# How long each benchmark runs (a duration, or Nx for N iterations); see docs/performance.md.
BENCHTIME ?= 1s

KUBE_LDFLAGS := -X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
	-X k8s.io/component-base/version.gitMajor=$(word 1,$(subst ., ,$(patsubst v%,%,$(KUBE_VERSION)))) \
	-X k8s.io/component-base/version.gitMinor=$(word 2,$(subst ., ,$(patsubst v%,%,$(KUBE_VERSION)))) \
	-X k8s.io/component-base/version.gitTreeState=clean

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-zA-Z/_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-22s %s\n", $$1, $$2}'

# --- Everyday ---

.PHONY: build
build: ## Build bin/elbgateway as the image ships it: stripped, without the demo.
	$(GO_STATIC) build -trimpath -ldflags '-s -w' -o bin/elbgateway ./cmd/elbgateway

.PHONY: test
test: bin/kube-apiserver bin/etcd ## Vet, run every test against envtest + moto (chart included), and check the static build.
	$(GO_STATIC) vet $(DEMO_TAGS) $(PKGS)
	$(TEST_ENV) $(GO_STATIC) test $(DEMO_TAGS) -count=1 -timeout $(TEST_TIMEOUT) $(PKGS)
	$(MAKE) --no-print-directory test-helm
	$(MAKE) --no-print-directory test-conformance
	$(GO_STATIC) build -o /dev/null ./cmd/elbgateway

.PHONY: test-helm
test-helm: bin/kube-apiserver bin/etcd ## Render the chart with the walkthrough's values, install it on kube-apiserver, run the walkthrough.
	cd test/helm && $(TEST_ENV) $(GO_STATIC) vet ./...
	cd test/helm && $(TEST_ENV) $(GO_STATIC) test -count=1 -timeout $(TEST_TIMEOUT) ./...

.PHONY: test-conformance
test-conformance: bin/kube-apiserver bin/etcd ## Run the upstream Gateway API status conformance tests against the controller, both classes.
	cd test/conformance && $(GO_STATIC) vet ./...
	cd test/conformance && $(TEST_ENV) $(GO_STATIC) test -count=1 -timeout $(TEST_TIMEOUT) .

.PHONY: conformance
conformance: conformance-cluster ## The whole upstream conformance suite, both classes, with traffic, on a full local cluster; writes conformance/reports/.
	cd test/conformance && $(GO_STATIC) vet -tags conformance ./...
	cd test/conformance && $(TEST_ENV) $(GO_STATIC) test -tags conformance -count=1 -timeout 15m -run TestDeploymentBecomesReadyPods ./workloads/
	cd test/conformance && $(TEST_ENV) $(GO_STATIC) test -tags conformance -count=1 -timeout 90m -v -run TestConformanceFull . \
		> conformance.log 2>&1; status=$$?; grep -E '^(ok|FAIL|PASS)|^ {0,8}--- (PASS|FAIL)' conformance.log; \
		echo "full log: test/conformance/conformance.log"; exit $$status

.PHONY: bench
bench: bin/kube-apiserver bin/etcd ## Run the benchmarks and print their figures.
	$(TEST_ENV) $(GO_STATIC) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout $(TEST_TIMEOUT) $(PKGS)

.PHONY: demo
# Built, then exec'd: the demo is make's own child, so SIGTERM sent to make reaches it (a `go run`
# in between would die and leave the demo running), and the demo watches make for the rest.
demo: bin/kube-apiserver bin/etcd ## Start kube-apiserver, etcd and moto, and walk through an NLB Gateway.
	$(GO_STATIC) build $(DEMO_TAGS) -o bin/elbgateway ./cmd/elbgateway
	$(TEST_ENV) exec bin/elbgateway demo $(DEMO_ARGS)

# --- Code generation ---

bin/controller-gen: tools/controller-gen/go.mod ## Build controller-gen from the version pinned in tools/.
	cd tools/controller-gen && $(GO) build -o $(CURDIR)/$@ sigs.k8s.io/controller-tools/cmd/controller-gen

.PHONY: generate
generate: bin/controller-gen ## Regenerate deepcopy code and CRDs (config/crd/bases).
	bin/controller-gen object paths=./api/...
	bin/controller-gen crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(GO) run ./hack/crdversions config/crd/bases
	$(MAKE) --no-print-directory docs-reference
	$(MAKE) --no-print-directory chart-crds

.PHONY: docs-reference
docs-reference: ## Regenerate the CRD field reference (docs/reference/crd) from config/crd/bases.
	$(GO) run ./hack/crdref config/crd/bases docs/reference/crd

.PHONY: chart-crds
chart-crds: ## Copy the generated CRDs into the Helm chart.
	rm -f charts/elbgateway/crds/*.yaml
	cp config/crd/bases/*.yaml charts/elbgateway/crds/

.PHONY: verify-generate
verify-generate: generate ## Fail if generated files differ from what is committed.
	git diff --exit-code -- api/ config/ charts/elbgateway/crds/ docs/reference/crd/

# --- Test binaries (built from their Go modules, cached in $(CACHE_DIR)) ---

bin/kube-apiserver: $(KUBE_APISERVER_CACHED) ## kube-apiserver for envtest.
	@mkdir -p bin
	ln -f $< $@ 2>/dev/null || cp -f $< $@

bin/etcd: $(ETCD_CACHED) ## etcd for envtest.
	@mkdir -p bin
	ln -f $< $@ 2>/dev/null || cp -f $< $@

# Built only when missing: the version is part of the path. Written to a temporary name of the
# building process's own first, so an interrupted build never leaves a half-written binary behind
# and two clones building at once never move each other's file.
$(KUBE_APISERVER_CACHED):
	@test -n "$(KUBE_VERSION)" || { echo "cannot read the k8s.io/kubernetes version from tools/kube-apiserver/go.mod" >&2; exit 1; }
	@mkdir -p $(@D)
	@echo "building kube-apiserver $(KUBE_VERSION) from its Go module (about 6 minutes on 2 cores, once)"
	cd tools/kube-apiserver && $(GO) build -ldflags '$(KUBE_LDFLAGS)' -o $@.tmp.$$$$ k8s.io/kubernetes/cmd/kube-apiserver && \
		mv -f $@.tmp.$$$$ $@

bin/kube-controller-manager: $(KCM_CACHED) ## kube-controller-manager for the conformance run.
	@mkdir -p bin
	ln -f $< $@ 2>/dev/null || cp -f $< $@

bin/kube-scheduler: $(SCHEDULER_CACHED) ## kube-scheduler for the conformance run.
	@mkdir -p bin
	ln -f $< $@ 2>/dev/null || cp -f $< $@

bin/kwok: $(KWOK_CACHED) ## kwok (Pods Running and Ready without a kubelet) for the conformance run.
	@mkdir -p bin
	ln -f $< $@ 2>/dev/null || cp -f $< $@

bin/echo-basic: $(ECHO_BASIC_CACHED) ## The conformance suite's echo backend.
	@mkdir -p bin
	ln -f $< $@ 2>/dev/null || cp -f $< $@

.PHONY: conformance-cluster
conformance-cluster: bin/kube-apiserver bin/etcd bin/kube-controller-manager bin/kube-scheduler bin/kwok bin/echo-basic ## Build (once) every binary the conformance run's cluster needs.

$(KCM_CACHED) $(SCHEDULER_CACHED):
	@test -n "$(KUBE_VERSION)" || { echo "cannot read the k8s.io/kubernetes version from tools/kube-apiserver/go.mod" >&2; exit 1; }
	@mkdir -p $(@D)
	@echo "building $(notdir $@) $(KUBE_VERSION) from its Go module (several minutes on 2 cores, once)"
	cd tools/kube-apiserver && $(GO) build -ldflags '$(KUBE_LDFLAGS)' -o $@.tmp.$$$$ k8s.io/kubernetes/cmd/$(notdir $@) && \
		mv -f $@.tmp.$$$$ $@

$(KWOK_CACHED):
	@test -n "$(KWOK_VERSION)" || { echo "cannot read the kwok version from tools/kwok/go.mod" >&2; exit 1; }
	@mkdir -p $(@D)
	@echo "building kwok $(KWOK_VERSION) from its Go module"
	cd tools/kwok && $(GO) build -o $@.tmp.$$$$ sigs.k8s.io/kwok/cmd/kwok && mv -f $@.tmp.$$$$ $@

$(ECHO_BASIC_CACHED):
	@test -n "$(CONFORMANCE_VERSION)" || { echo "cannot read the conformance version from test/conformance/go.mod" >&2; exit 1; }
	@mkdir -p $(@D)
	@echo "building echo-basic $(CONFORMANCE_VERSION) from its Go module"
	cd test/conformance && CGO_ENABLED=0 $(GO) build -o $@.tmp.$$$$ sigs.k8s.io/gateway-api/conformance/echo-basic && mv -f $@.tmp.$$$$ $@

$(ETCD_CACHED):
	@test -n "$(ETCD_VERSION)" || { echo "cannot read the etcd version from tools/etcd/go.mod" >&2; exit 1; }
	@mkdir -p $(@D)
	@echo "building etcd $(ETCD_VERSION) from its Go module"
	cd tools/etcd && $(GO) build -o $@.tmp.$$$$ . && mv -f $@.tmp.$$$$ $@

.PHONY: clean
clean: ## Remove bin/ (the cached kube-apiserver and etcd stay).
	rm -rf bin
