# kubectl-atlas. `make demo` runs the main job end to end; `make test` runs every test;
# `make e2e` runs the user journeys against the real Atlas Operator.
SHELL := /usr/bin/env bash
GO ?= go
PREFIX ?= /usr/local
BIN := bin
TESTBIN := $(CURDIR)/bin/testbin
export KUBEBUILDER_ASSETS ?= $(TESTBIN)

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
PKG := github.com/kubectl-atlas/kubectl-atlas
LDFLAGS := -s -w -X $(PKG)/plugin.version=$(VERSION) -X $(PKG)/plugin.commit=$(COMMIT) -X $(PKG)/plugin.date=$(DATE)

.PHONY: all build install generate testbin operator argocd atlas atlas-check e2e demo-gitops test test-stress test-unit test-argocd test-tools fuzz demo bench dist validate-krew clean

all: build

build: ## the plugin binary in bin/
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/kubectl-atlas ./cmd/kubectl-atlas

install: build ## kubectl-atlas and kubectl_complete-atlas into $(PREFIX)/bin
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN)/kubectl-atlas kubectl_complete-atlas $(DESTDIR)$(PREFIX)/bin/

generate: ## the checked-in health.lua files of healthcheck/resource_customizations (go generate)
	$(GO) generate ./healthcheck/

# The test control plane: kube-apiserver and etcd built from the Go module proxy (hack/testbin).
testbin: $(TESTBIN)/kube-apiserver $(TESTBIN)/etcd
$(TESTBIN)/kube-apiserver: hack/testbin/apiserver/go.mod
	cd hack/testbin/apiserver && $(GO) build -o $@ k8s.io/kubernetes/cmd/kube-apiserver
$(TESTBIN)/etcd: hack/testbin/etcd/go.mod
	cd hack/testbin/etcd && $(GO) build -o $@ go.etcd.io/etcd/server/v3

# The real Atlas Operator for `make e2e` and the demo, built from the Go module proxy (hack/operator).
OPERATOR_VERSION := v0.7.37
operator: $(BIN)/atlas-operator
$(BIN)/atlas-operator: hack/operator/go.mod
	cd hack/operator && $(GO) build -ldflags '-X main.version=$(OPERATOR_VERSION)' -o $(CURDIR)/$@ github.com/ariga/atlas-operator/cmd

# Argo CD v3.5.1's application-controller and repo-server for the GitOps journeys, built from the
# Go module proxy (hack/argocd) with the tag's gitops-engine folder (GITOPS_ENGINE_SRC, copied into
# bin/argocd/gitops-engine because the build writes to it), and what they need on PATH: kustomize
# (the version Argo CD v3.5.1 pins) and Argo CD's git-verify-wrapper.sh. Cold: ~15 min of CPU.
ARGOCD_DIR := $(BIN)/argocd
export GITOPS_ENGINE_SRC ?= $(CURDIR)/../shared/third_party/argo-cd-v3.5.1-gitops-engine
KUSTOMIZE_VERSION := v5.8.1
argocd: $(ARGOCD_DIR)/argocd $(ARGOCD_DIR)/kustomize $(ARGOCD_DIR)/manifests/.copied
$(ARGOCD_DIR)/gitops-engine/go.mod:
	@test -f $(GITOPS_ENGINE_SRC)/go.mod || { echo "make argocd: no gitops-engine source at $(GITOPS_ENGINE_SRC) (argo-cd v3.5.1's gitops-engine/ folder; set GITOPS_ENGINE_SRC)" >&2; exit 1; }
	rm -rf $(ARGOCD_DIR)/gitops-engine.tmp && mkdir -p $(ARGOCD_DIR)
	cp -R $(GITOPS_ENGINE_SRC) $(ARGOCD_DIR)/gitops-engine.tmp && chmod -R u+w $(ARGOCD_DIR)/gitops-engine.tmp
	rm -rf $(ARGOCD_DIR)/gitops-engine && mv $(ARGOCD_DIR)/gitops-engine.tmp $(ARGOCD_DIR)/gitops-engine
$(ARGOCD_DIR)/argocd: hack/argocd/go.mod hack/argocd/main.go $(ARGOCD_DIR)/gitops-engine/go.mod
	cd hack/argocd && $(GO) build -trimpath -ldflags '-s -w' -o $(CURDIR)/$@.tmp . && mv $(CURDIR)/$@.tmp $(CURDIR)/$@
	ln -sfn argocd $(ARGOCD_DIR)/argocd-application-controller
	ln -sfn argocd $(ARGOCD_DIR)/argocd-repo-server
# From the argo-cd module: git-verify-wrapper.sh (the repo-server calls it even with GPG off) and
# the manifests the harness installs (the Application and AppProject CRDs, manifests/base/config).
$(ARGOCD_DIR)/manifests/.copied: hack/argocd/go.mod
	@mkdir -p $(ARGOCD_DIR)
	src=$$(cd hack/argocd && $(GO) list -m -f '{{.Dir}}' github.com/argoproj/argo-cd/v3) && \
	install -m 0755 $$src/hack/git-verify-wrapper.sh $(ARGOCD_DIR)/git-verify-wrapper.sh && \
	rm -rf $(ARGOCD_DIR)/manifests && mkdir -p $(ARGOCD_DIR)/manifests && \
	cp -R $$src/manifests/crds $$src/manifests/base/config $(ARGOCD_DIR)/manifests/ && \
	chmod -R u+w $(ARGOCD_DIR)/manifests && touch $@
$(ARGOCD_DIR)/kustomize:
	@mkdir -p $(ARGOCD_DIR)
	GOBIN=$(CURDIR)/$(ARGOCD_DIR) $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

# The atlas CLI the operator runs: an official one on PATH as is, else the community edition built
# from ATLAS_SRC (a github.com/ariga/atlas source tree; CI: the copy beside the repository) behind
# our compatibility wrapper bin/atlas-compat/atlas (hack/atlascompat). See hack/atlas.sh.
export ATLAS_SRC ?= $(CURDIR)/../shared/third_party/atlas-v1.2.3
atlas:
	@bash hack/atlas.sh >/dev/null
atlas-check:
	@bash hack/atlas.sh --check

# The user journeys against the real operator, a real atlas, SQLite and PostgreSQL (e2e/), the
# GitOps test bed with a real Argo CD (`make argocd`; internal/testbed/argocd), and `make demo` with
# the real operator (hack/demo). Needs an atlas CLI or ATLAS_SRC (hack/atlas.sh says how in one
# line otherwise) and Debian's postgresql, mariadb-server, sqlite3, redis-server and git packages.
# RECORD=1 also rewrites the recorded health fixtures in healthcheck/resource_customizations (then run
# `make test-argocd` and, for docs/healthcheck.md, UPDATE_DOCS=1 in healthcheck/argocdtest).
e2e: atlas-check testbin operator argocd build
	@atlas=$$(bash hack/atlas.sh) || exit 1; \
	export E2E_ATLAS=$$atlas; rc=0; \
	$(GO) test -tags e2e -count=1 -timeout 10m ./internal/testbed/argocd/ || rc=1; \
	$(GO) test -tags e2e -count=1 -timeout 45m ./e2e/ $(if $(RECORD),-args -record) || rc=1; \
	$(GO) test -tags e2e -count=1 -timeout 10m -run TestDemoRealOperator ./hack/demo/ || rc=1; \
	exit $$rc

# `make test` with CPU hogs saturating the machine (HOGS, default 2 per core; RUNS=3 repeats):
# every test must hold on a busy machine. Stops at the first failure. CI does not run it.
test-stress: testbin
	bash hack/stress.sh

test: testbin test-unit test-argocd test-tools ## every test: unit, control plane, krusty, Argo CD's VM, krew

test-unit:
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/ ./hack/demo/ ./internal/testbed/argocd/
	$(GO) test -p 2 -timeout 30m ./...

# Argo CD's own Lua VM judges our health scripts; a separate module keeps its deps out of ours.
test-argocd:
	cd healthcheck/argocdtest && $(GO) vet ./... && $(GO) test -timeout 30m ./...

bench: build ## benchmarks: Go benchmarks and comparisons with kubectl, as ratios
	@for s in hack/bench/*.sh; do [ -f "$$s" ] && bash "$$s" || exit 1; done

demo: build testbin ## the main job end to end: the real operator when an atlas CLI is available, else played
	bash hack/demo.sh

# The whole GitOps loop to watch: git commit -> a real Argo CD -> the real operator -> tables
# (hack/demogitops). Needs what `make e2e` needs; slow to build the first time (`make argocd`).
demo-gitops: atlas-check testbin operator argocd build ## the GitOps loop, step by step, with a real Argo CD
	@atlas=$$(bash hack/atlas.sh) || exit 1; E2E_ATLAS=$$atlas $(GO) run ./hack/demogitops

# krew's own validator, on a stand-in release (hack/tools has its own go.mod).
test-tools:
	cd hack/tools && $(GO) vet ./... && $(GO) test -timeout 20m ./...

dist: ## release archives + dist/krew/atlas.yaml (VERSION=v1.2.3 sets the version)
	bash hack/dist.sh

validate-krew: ## krew's validate-krew-manifest on dist/, install of every platform included
	bash hack/validate-krew.sh

# Targets are listed from the source (func FuzzX in *_test.go), not with `go test -list`, which
# would run each package's TestMain (some start a control plane). The first failure stops the run.
FUZZTIME ?= 10s
fuzz: ## a short run ($(FUZZTIME)) of every fuzz target
	@set -eo pipefail; n=0; pkgs=$$($(GO) list -f '{{.ImportPath}}={{.Dir}}' ./...); \
	for entry in $$pkgs; do \
	  pkg=$${entry%%=*}; dir=$${entry#*=}; \
	  for f in $$(cat /dev/null $$(ls $$dir/*_test.go 2>/dev/null) | sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p'); do \
	    echo "== $$pkg $$f"; n=$$((n+1)); \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done; \
	[ $$n -gt 0 ] || { echo "make fuzz: no fuzz targets found" >&2; exit 1; }; \
	echo "make fuzz: $$n targets passed"

clean:
	rm -rf $(BIN) dist
