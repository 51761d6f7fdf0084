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
