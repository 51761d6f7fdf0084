#!/usr/bin/env bash
# The in-cluster verbs against kubectl on the test control plane, in the same run: wait
# latency, status -A over 10,000 AtlasMigrations in 100 namespaces (time and peak memory),
# wait --all over 1,000, apply of 1,000 objects in 5 waves with hooks and health. Prints a
# table of medians and ratios (kubectl-atlas / kubectl); exits 1 when a target is missed.
# Needs `make build testbin`.
set -euo pipefail
cd "$(dirname "$0")/../.."
KUBECTL=${KUBECTL:-bin/testbin/kubectl}
if [ ! -x "$KUBECTL" ]; then
  echo "building kubectl $(grep -o 'k8s.io/kubernetes v[0-9.]*' hack/testbin/apiserver/go.mod | cut -d' ' -f2) from the module proxy into $KUBECTL" >&2
  # hack/testbin/apiserver's go.mod lacks kubectl's own modules (k8s.io/kubectl, kustomize):
  # resolve them in a scratch copy so the checked-in module stays as it is.
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  cp hack/testbin/apiserver/go.mod hack/testbin/apiserver/go.sum hack/testbin/apiserver/tools.go "$tmp"/
  out=$PWD/$KUBECTL
  (cd "$tmp" && go get "k8s.io/kubernetes/cmd/kubectl@$(grep -o 'k8s.io/kubernetes v[0-9.]*' go.mod | cut -d' ' -f2)" && go build -o "$out" k8s.io/kubernetes/cmd/kubectl)
fi
[ -x bin/kubectl-atlas ] || go build -o bin/kubectl-atlas ./cmd/kubectl-atlas
go run ./hack/bench/cluster -plugin bin/kubectl-atlas -kubectl "$KUBECTL" "$@"
