#!/usr/bin/env bash
# `make demo`: the main job of kubectl atlas end to end, on a local control plane (a real
# kube-apiserver + etcd with the Atlas Operator's CRDs; bin/testbin from `make testbin`).
# Nothing to bring: no cluster, no database server.
#
#   1. pick the operator: with an atlas CLI (an official one on PATH, or the community edition
#      built from $ATLAS_SRC: hack/atlas.sh) the REAL Atlas Operator v0.7.37 (bin/atlas-operator,
#      `make operator`) runs out of cluster and migrates a SQLite database in the demo's temp dir;
#      without one, hack/demo plays the operator and says so (DEMO_PLAY_OPERATOR=1 forces that)
#   2. start the control plane (+ operator), KUBECONFIG points at it
#   3. kubectl atlas init      hack/demo/migrations (SQLite) -> a GitOps folder
#   4. kubectl atlas apply     server-side apply in sync-wave order
#   5. kubectl atlas status / wait   until the migration is applied
#   6. kubectl atlas healthcheck generate   the Argo CD health checks that gave these verdicts
#   7. the tables the operator created (real operator only)
#
# Everything started is stopped on exit, Ctrl-C included.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
# The plugin binary to demo; `make demo` builds bin/kubectl-atlas first.
KUBECTL_ATLAS=${KUBECTL_ATLAS:-bin/kubectl-atlas}
VERSION=20240602120000 # newest migration in hack/demo/migrations
start=$(date +%s)

bold="" reset=""
if [[ -t 1 && -z "${NO_COLOR:-}" ]]; then bold=$'\033[1m' reset=$'\033[0m'; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
# Show a kubectl atlas command as a user types it, and run bin/kubectl-atlas.
atlas() {
  printf '%s$ kubectl atlas %s%s\n' "$bold" "$*" "$reset"
  "$KUBECTL_ATLAS" "$@"
}

[[ -x "$KUBECTL_ATLAS" ]] || "$GO" build -o "$KUBECTL_ATLAS" ./cmd/kubectl-atlas
"$GO" build -o bin/demo ./hack/demo

step "Which Atlas Operator?"
mode=play atlas_bin=""
if [[ -z "${DEMO_PLAY_OPERATOR:-}" ]]; then
  if atlas_bin=$(bash hack/atlas.sh --quiet-missing); then
    mode=real
  else
    rc=$?
    [[ $rc == 3 ]] || exit "$rc"
  fi
fi
if [[ $mode == real ]]; then
  [[ -x bin/atlas-operator ]] || echo "building the Atlas Operator v0.7.37 into bin/atlas-operator (about 4 min cold)"
  make -s operator
  echo "the REAL Atlas Operator v0.7.37 (bin/atlas-operator), running $atlas_bin"
else
  echo "no atlas CLI (install the official one, or set ATLAS_SRC to a github.com/ariga/atlas checkout):"
  echo "this demo PLAYS THE ATLAS OPERATOR (hack/demo writes the status the operator would write)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kubectl-atlas-demo.XXXXXX")
export KUBECONFIG="$work/kubeconfig"
cp_pid=""
cleanup() {
  local rc=$?
  if [[ -n "$cp_pid" ]] && kill -0 "$cp_pid" 2>/dev/null; then
    kill -TERM "$cp_pid" 2>/dev/null || true
    wait "$cp_pid" 2>/dev/null || true
    echo "control plane stopped"
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ $mode == real ]]; then
  step "Starting a local control plane (kube-apiserver + etcd, the Atlas Operator's CRDs) and the real Atlas Operator (out of cluster; no kubelet)"
  E2E_ATLAS=$atlas_bin bin/demo up -kubeconfig "$KUBECONFIG" -resource default/blog &
else
  step "Starting a local control plane (kube-apiserver + etcd, the Atlas Operator's CRDs; no operator, no kubelet)"
  bin/demo controlplane -kubeconfig "$KUBECONFIG" &
fi
cp_pid=$!
for _ in $(seq 1 900); do
  [[ -f "$KUBECONFIG" ]] && break
  kill -0 "$cp_pid" 2>/dev/null || { echo "the control plane did not start (run 'make testbin' first?)" >&2; exit 1; }
  sleep 0.1
done
[[ -f "$KUBECONFIG" ]] || { echo "the control plane did not start within 90s" >&2; exit 1; }
echo "ready: KUBECONFIG=$KUBECONFIG"

step "Scaffold a GitOps folder from the demo's migration directory (examples/versioned, in SQLite)"
atlas init --dir hack/demo/migrations --name blog --url-secret blog-db:url --out "$work/atlas"

step "The database Secret (in real life yours, from a secret manager): a SQLite file in the demo's temp dir"
cat >"$work/db-secret.yaml" <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: blog-db
stringData:
  url: sqlite://$work/blog.db
EOF
atlas apply -f "$work/db-secret.yaml"

step "Apply the folder in Argo CD's sync order (server-side apply)"
atlas apply -k "$work/atlas"

if [[ $mode == real ]]; then
  step "Status right after the apply (the operator is at work, or already done)"
  atlas status
  step "Waiting for the migration: the real operator runs atlas migrate apply"
  atlas wait atlasmigration/blog --for "applied=$VERSION" --timeout 120s
else
  step "Status: Progressing, because no Atlas Operator runs on this control plane"
  atlas status
  step "Waiting for the migration while the operator works"
  atlas wait atlasmigration/blog --timeout 60s &
  wait_pid=$!
  sleep 1
  printf '%s(this step PLAYS THE ATLAS OPERATOR: hack/demo writes status.conditions Reconciling, then Ready=True/Applied with lastAppliedVersion, through the status subresource, as the operator does after atlas migrate apply succeeds)%s\n' "$bold" "$reset"
  bin/demo operator -kubeconfig "$KUBECONFIG" -n default blog
  wait "$wait_pid"
fi

step "Status: Healthy"
atlas status

step "The Argo CD health checks that judged it (add them to argocd-cm)"
atlas healthcheck generate

if [[ $mode == real ]]; then
  step "The tables the Atlas Operator created in $work/blog.db (atlas schema inspect)"
  # stderr only on failure: a community build prints an edition notice there.
  HOME="$work" "$atlas_bin" schema inspect --url "sqlite://$work/blog.db" --format '{{ sql . }}' 2>"$work/inspect.err" ||
    { cat "$work/inspect.err" >&2; exit 1; }
else
  step "No tables: the operator was played, nothing ran atlas against $work/blog.db"
fi

step "Done in $(($(date +%s) - start))s"
