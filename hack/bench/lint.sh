#!/usr/bin/env bash
# Lint: the 124-file golang-migrate directory of the conversion tests on a local PostgreSQL,
# with --latest 1 and in full, `kubectl-atlas lint` against the community `atlas migrate lint`
# v1.2.3 (bin/atlas-community, `make atlas`) in the same run, both as processes on the same dev
# database (internal/lint's BenchmarkLint124). Prints the times and ratios; target: no slower
# than atlas (ratio <= 1.00, with 10% allowance for this shared machine's noise).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
cd "$ROOT"
[ -x bin/atlas-community ] || { echo "lint bench: bin/atlas-community is missing: run make atlas" >&2; exit 1; }
out=$(go test -run '^$' -bench '^BenchmarkLint124$' -benchtime "${BENCHTIME:-5x}" -count 1 ./internal/lint/)
ms() { awk -v n="$1" '$1 ~ n"-[0-9]+$" || $1 == n {printf "%.1f", $3/1e6}' <<<"$out"; }
status=0
echo "lint 124 golang-migrate files on PostgreSQL (kubectl-atlas lint vs atlas migrate lint, ms per run):"
for mode in latest1 full; do
	a=$(ms "BenchmarkLint124/$mode/kubectl-atlas") b=$(ms "BenchmarkLint124/$mode/atlas")
	r=$(ratio "$a" "$b")
	printf '  %-8s kubectl-atlas %9s ms   atlas %9s ms   ratio %s\n' "$mode" "$a" "$b" "$r"
	le "$r" 1.10 || status=1
done
if [ $status = 0 ]; then echo "  lint: PASS"; else echo "  lint: FAIL"; fi
exit $status
