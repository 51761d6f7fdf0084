#!/usr/bin/env bash
# Startup: kubectl runs a plugin on every TAB, so `kubectl-atlas version` and
# `kubectl-atlas __complete ""` must start in at most 0.35x the time of `kubectl version --client`.
# Prints median wall (and CPU) times of interleaved runs and the ratios (target: <= 0.35).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
ensure_tools
RUNS=${RUNS:-30}
ROUNDS=3

"$ATLAS" version >/dev/null; "$KUBECTL" version --client >/dev/null 2>&1 || true # warm the page cache
# Interleave rounds so load changes hit all three alike; keep the median round.
v=() c=() k=() vc=() cc=() kc=()
for ((r = 0; r < ROUNDS; r++)); do
	read -r w p <<<"$(measure $((RUNS / ROUNDS)) "$ATLAS" version)"; v+=("$w"); vc+=("$p")
	read -r w p <<<"$(measure $((RUNS / ROUNDS)) "$ATLAS" __complete "")"; c+=("$w"); cc+=("$p")
	read -r w p <<<"$(measure $((RUNS / ROUNDS)) "$KUBECTL" version --client)"; k+=("$w"); kc+=("$p")
done
med() { printf '%s\n' "$@" | sort -n | sed -n "$(((ROUNDS + 1) / 2))p"; }
tv=$(med "${v[@]}") tc=$(med "${c[@]}") tk=$(med "${k[@]}")
pv=$(med "${vc[@]}") pc=$(med "${cc[@]}") pk=$(med "${kc[@]}")
rv=$(ratio "$tv" "$tk") rc=$(ratio "$tc" "$tk")
echo "startup (median of ${RUNS} runs each; wall / CPU):"
printf '  %-34s %7s ms / %6s ms\n' "kubectl version --client" "$tk" "$pk" "kubectl-atlas version" "$tv" "$pv" "kubectl-atlas __complete \"\"" "$tc" "$pc"
echo "  ratio version/kubectl:    $rv wall, $(ratio "$pv" "$pk") CPU (target <= 0.35)"
echo "  ratio __complete/kubectl: $rc wall, $(ratio "$pc" "$pk") CPU (target <= 0.35)"
if le "$rv" 0.35 && le "$rc" 0.35; then echo "  startup: PASS"; else echo "  startup: FAIL"; exit 1; fi
