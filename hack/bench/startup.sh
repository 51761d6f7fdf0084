#!/usr/bin/env bash
# Startup: kubectl runs a plugin on every TAB, so `kubectl-atlas version` and
# `kubectl-atlas __complete ""` must start no slower than `kubectl version --client`.
# Prints median wall times of interleaved runs and the ratios (target: <= 1.00).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_tools
RUNS=${RUNS:-30}

# Warm the page cache, then interleave rounds so load changes hit all three alike.
for c in "$ATLAS version" "$ATLAS __complete ''" "$KUBECTL version --client"; do eval "$c" >/dev/null 2>&1 || true; done
v=() c=() k=()
for ((r = 0; r < 3; r++)); do
	v+=($(time_ms $((RUNS / 3)) "$ATLAS" version))
	c+=($(time_ms $((RUNS / 3)) "$ATLAS" __complete ""))
	k+=($(time_ms $((RUNS / 3)) "$KUBECTL" version --client))
done
med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
tv=$(med "${v[@]}") tc=$(med "${c[@]}") tk=$(med "${k[@]}")
rv=$(ratio "$tv" "$tk") rc=$(ratio "$tc" "$tk")
echo "startup (median of ${RUNS} runs each):"
printf '  %-34s %7s ms\n' "kubectl version --client" "$tk" "kubectl-atlas version" "$tv" "kubectl-atlas __complete \"\"" "$tc"
echo "  ratio version/kubectl:    $rv (target <= 1.00)"
echo "  ratio __complete/kubectl: $rc (target <= 1.00)"
if le "$rv" 1.00 && le "$rc" 1.00; then echo "  startup: PASS"; else echo "  startup: FAIL"; exit 1; fi
