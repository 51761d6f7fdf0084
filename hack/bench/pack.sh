#!/usr/bin/env bash
# Packing: 400 migration files (about 900 KiB) with atlas.sum into ConfigMap YAML, validation
# included, in at most half the wall time of `kubectl create configmap --from-file=DIR
# --dry-run=client -o yaml` on the same directory. Prints median times and the ratio.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_tools
RUNS=${RUNS:-20}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
(cd "$ROOT" && go run ./hack/bench/gendir "$dir/migrations" 400 $((900 * 1024)))
size=$(du -sk "$dir/migrations" | cut -f1)
files=$(ls "$dir/migrations" | wc -l)

# Both must succeed on this directory, and hold the same data.
"$ATLAS" configmap --dir "$dir/migrations" --name bench >"$dir/atlas.yaml"
"$KUBECTL" create configmap bench --from-file="$dir/migrations" --dry-run=client -o yaml >"$dir/kubectl.yaml"

a=() k=()
for ((r = 0; r < 3; r++)); do
	a+=($(time_ms $((RUNS / 3 + 1)) "$ATLAS" configmap --dir "$dir/migrations" --name bench))
	k+=($(time_ms $((RUNS / 3 + 1)) "$KUBECTL" create configmap bench --from-file="$dir/migrations" --dry-run=client -o yaml))
done
med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
ta=$(med "${a[@]}") tk=$(med "${k[@]}")
r=$(ratio "$ta" "$tk")
echo "packing ${files} files (${size} KiB on disk, atlas.sum validated):"
printf '  %-62s %7s ms\n' "kubectl create configmap --from-file --dry-run=client -o yaml" "$tk" "kubectl-atlas configmap --dir --name" "$ta"
echo "  ratio atlas/kubectl: $r (target <= 0.50)"
if le "$r" 0.50; then echo "  packing: PASS"; else echo "  packing: FAIL"; exit 1; fi
