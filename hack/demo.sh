#!/usr/bin/env bash
# `make demo`: the main job of kubectl atlas end to end, on a local control plane (a real
# kube-apiserver + etcd with the Atlas Operator's CRDs; bin/testbin from `make testbin`).
# Nothing to bring: no cluster, no operator, no database.
#
#   1. start the control plane (hack/demo: internal/testenv), KUBECONFIG points at it
#   2. kubectl atlas init      the versioned example's migrations -> a GitOps folder
#   3. kubectl atlas apply     server-side apply in sync-wave order
#   4. kubectl atlas status    Progressing: no operator runs here
#   5. PLAY THE OPERATOR       write the status the Atlas Operator would write (said so on screen)
#      kubectl atlas wait      returns as soon as the migration is applied
#   6. kubectl atlas status    Healthy
#   7. kubectl atlas healthcheck generate   the Argo CD health checks that gave these verdicts
#
# The control plane is stopped on exit, Ctrl-C included.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
# The plugin binary to demo; `make demo` builds bin/kubectl-atlas first.
KUBECTL_ATLAS=${KUBECTL_ATLAS:-bin/kubectl-atlas}
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

step "Starting a local control plane (kube-apiserver + etcd, the Atlas Operator's CRDs; no operator, no kubelet)"
bin/demo controlplane -kubeconfig "$KUBECONFIG" &
cp_pid=$!
for _ in $(seq 1 600); do
  [[ -f "$KUBECONFIG" ]] && break
  kill -0 "$cp_pid" 2>/dev/null || { echo "the control plane did not start (run 'make testbin' first?)" >&2; exit 1; }
  sleep 0.1
done
[[ -f "$KUBECONFIG" ]] || { echo "the control plane did not start within 60s" >&2; exit 1; }
echo "ready: KUBECONFIG=$KUBECONFIG"

step "Scaffold a GitOps folder from the versioned example's migration directory"
# No --with-db here: nothing runs Pods on this control plane. The URL comes from a Secret.
atlas init --dir examples/versioned/migrations --name blog --url-secret blog-db:url --out "$work/atlas"

step "The database Secret (in real life yours, e.g. from a secret manager; here a stand-in)"
cat >"$work/db-secret.yaml" <<'EOF'
apiVersion: v1
kind: Secret
metadata:
  name: blog-db
stringData:
  url: mysql://root:demo-only@blog-db.default:3306/app
EOF
atlas apply -f "$work/db-secret.yaml"

step "Apply the folder in Argo CD's sync order (server-side apply)"
atlas apply -k "$work/atlas"

step "Status: Progressing, because no Atlas Operator runs on this control plane"
atlas status

step "Waiting for the migration while the operator works"
atlas wait atlasmigration/blog --timeout 60s &
wait_pid=$!
sleep 1
printf '%s(this step PLAYS THE ATLAS OPERATOR: hack/demo writes status.conditions Reconciling, then Ready=True/Applied with lastAppliedVersion, through the status subresource, as the operator does after atlas migrate apply succeeds)%s\n' "$bold" "$reset"
bin/demo operator -kubeconfig "$KUBECONFIG" -n default blog
wait "$wait_pid"

step "Status: Healthy"
atlas status

step "The Argo CD health checks that judged it (add them to argocd-cm)"
atlas healthcheck generate

step "Done in $(($(date +%s) - start))s"
