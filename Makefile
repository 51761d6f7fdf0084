# kubectl-atlas. `make demo` runs the main job end to end; `make test` runs every test.
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

.PHONY: all build install testbin test test-unit test-argocd fuzz demo bench dist clean

all: build

build: ## the plugin binary in bin/
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/kubectl-atlas ./cmd/kubectl-atlas

install: build ## kubectl-atlas and kubectl_complete-atlas into $(PREFIX)/bin
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN)/kubectl-atlas kubectl_complete-atlas $(DESTDIR)$(PREFIX)/bin/

# The test control plane: kube-apiserver and etcd built from the Go module proxy (hack/testbin).
testbin: $(TESTBIN)/kube-apiserver $(TESTBIN)/etcd
$(TESTBIN)/kube-apiserver: hack/testbin/apiserver/go.mod
	cd hack/testbin/apiserver && $(GO) build -o $@ k8s.io/kubernetes/cmd/kube-apiserver
$(TESTBIN)/etcd: hack/testbin/etcd/go.mod
	cd hack/testbin/etcd && $(GO) build -o $@ go.etcd.io/etcd/server/v3

test: testbin test-unit test-argocd ## every test: unit, control plane, krusty, Argo CD's VM

test-unit:
	$(GO) vet ./...
	$(GO) test -p 2 -timeout 30m ./...

# Argo CD's own Lua VM judges our health scripts; a separate module keeps its deps out of ours.
test-argocd:
	@if [ -f healthcheck/argocdtest/go.mod ]; then cd healthcheck/argocdtest && $(GO) test -timeout 30m ./...; fi

bench: build ## benchmarks: Go benchmarks and comparisons with kubectl, as ratios
	@for s in hack/bench/*.sh; do [ -f "$$s" ] && bash "$$s" || exit 1; done

demo: build testbin ## the main job end to end on a local control plane
	bash hack/demo.sh

fuzz: ## a short run of every fuzz target
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 10s $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf $(BIN) dist
