#!/usr/bin/env bash
# One evaluation of kubectl-atlas's AtlasMigration health script on a realistic object
# (healthcheck/testdata/bench/atlasmigration.yaml): Argo CD's own Lua VM (util/lua +
# gitops-engine pkg/health, the controller's path) against ours, in the same `go test` run,
# after checking both give the same verdict. Prints the best of COUNT runs each and the ratio.
set -euo pipefail
cd "$(dirname "$0")/../../healthcheck/argocdtest"
COUNT=${COUNT:-5}
BENCHTIME=${BENCHTIME:-1s}
go test -count=1 -run 'TestBenchObjectVerdicts' . >/dev/null
out=$(go test -run '^$' -bench 'BenchmarkAtlasMigration(ArgoCDVM|OurVM)$' -benchtime "$BENCHTIME" -count "$COUNT" -benchmem .)
echo "$out" | grep '^Benchmark'
echo "$out" | awk '
  /^BenchmarkAtlasMigrationArgoCDVM/ { if (!a || $3 < a) a = $3 }
  /^BenchmarkAtlasMigrationOurVM/    { if (!o || $3 < o) o = $3 }
  END {
    if (!a || !o) { print "healthcheck bench: missing results"; exit 1 }
    printf "healthcheck: AtlasMigration evaluation, Argo CD VM %.1f us, kubectl-atlas VM %.1f us: %.1fx faster (same verdict; target >= 5x)\n", a/1000, o/1000, a/o
    if (a/o < 5) { print "healthcheck bench: target missed (>= 5x)"; exit 1 }
  }'

# The redaction (useOpenLibs) on a Degraded message of 4, 16 and 32 KiB of credential shapes, in
# both VMs: the cost should grow about linearly, and 32 KiB (a condition's limit) stay far inside
# Argo CD's one-second budget (target: <= 20 ms on an idle 2-core machine).
out=$(go test -run '^$' -bench 'BenchmarkRedaction(ArgoCDVM|OurVM)' -benchtime "$BENCHTIME" -count "$COUNT" .)
echo "$out" | awk '
  /^BenchmarkRedaction/ { k = $1; sub(/-[0-9]+$/, "", k); if (!(k in best) || $3 < best[k]) best[k] = $3 }
  END { for (k in best) printf "%-50s %8.2f ms\n", k, best[k] / 1e6 }' | sort
