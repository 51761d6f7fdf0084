#!/usr/bin/env bash
# Packing: 400 migration files (about 900 KiB) with atlas.sum into ConfigMap YAML, validation
# included, in at most 0.35x the wall time of `kubectl create configmap --from-file=DIR
# --dry-run=client -o yaml` on the same directory. Prints median times and the ratio.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
ensure_tools
RUNS=${RUNS:-21}
ROUNDS=3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(cd "$ROOT" && go run ./hack/bench/gendir "$dir/migrations" 400 $((900 * 1024)))
bytes=$(cat "$dir"/migrations/*.sql | wc -c)

# Both must succeed on this directory (and warm the page cache).
"$ATLAS" configmap --dir "$dir/migrations" --name bench >/dev/null 2>&1
"$KUBECTL" create configmap bench --from-file="$dir/migrations" --dry-run=client -o yaml >/dev/null

a=() k=() ac=() kc=()
for ((r = 0; r < ROUNDS; r++)); do
	read -r w p <<<"$(measure $((RUNS / ROUNDS)) "$ATLAS" configmap --dir "$dir/migrations" --name bench)"; a+=("$w"); ac+=("$p")
	read -r w p <<<"$(measure $((RUNS / ROUNDS)) "$KUBECTL" create configmap bench --from-file="$dir/migrations" --dry-run=client -o yaml)"; k+=("$w"); kc+=("$p")
done
med() { printf '%s\n' "$@" | sort -n | sed -n "$(((ROUNDS + 1) / 2))p"; }
ta=$(med "${a[@]}") tk=$(med "${k[@]}") pa=$(med "${ac[@]}") pk=$(med "${kc[@]}")
r=$(ratio "$ta" "$tk")
echo "packing 400 files + atlas.sum ($((bytes / 1024)) KiB of SQL, atlas.sum validated; median of ${RUNS} runs, wall / CPU):"
printf '  %-62s %7s ms / %6s ms\n' "kubectl create configmap --from-file --dry-run=client -o yaml" "$tk" "$pk" "kubectl-atlas configmap --dir --name" "$ta" "$pa"
echo "  ratio atlas/kubectl: $r wall, $(ratio "$pa" "$pk") CPU (target <= 0.35)"
if le "$r" 0.35; then echo "  packing: PASS"; else echo "  packing: FAIL"; exit 1; fi
