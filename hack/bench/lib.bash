# Shared helpers of the hack/bench scripts (sourced, not run: make bench runs *.sh): a kubectl built from the module proxy and a timer.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ATLAS="${ATLAS:-$ROOT/bin/kubectl-atlas}"
KUBECTL="${KUBECTL:-$ROOT/bin/testbin/kubectl}"

# ensure_tools builds kubectl-atlas and kubectl if missing (kubectl from the Go module proxy:
# /usr/bin/kubectl may be a wrapper script, which would skew the comparison).
ensure_tools() {
	[ -x "$ATLAS" ] || (cd "$ROOT" && make -s build)
	if [ ! -x "$KUBECTL" ]; then
		echo "building kubectl from the Go module proxy (once, a few minutes)..." >&2
		# The kube-apiserver wrapper module pins k8s.io/kubernetes and its staging modules; a copy
		# with -mod=mod fills in the go.sum lines kubectl needs without touching the original.
		local mod
		mod=$(mktemp -d)
		cp "$ROOT/hack/testbin/apiserver/go.mod" "$ROOT/hack/testbin/apiserver/go.sum" "$mod/"
		printf 'package tools\n' >"$mod/tools.go"
		(cd "$mod" && GOFLAGS=-mod=mod go build -o "$KUBECTL" k8s.io/kubernetes/cmd/kubectl)
		rm -rf "$mod"
	fi
}

# measure RUNS CMD...: "WALL CPU", the medians of wall time and of CPU time (user+sys) of RUNS
# runs, in milliseconds (output discarded). CPU time is reported too because this machine is
# shared: wall time swings with other people's load, CPU time much less.
measure() {
	local runs=$1
	shift
	local walls=() cpus=() line
	local TIMEFORMAT='%3R %3U %3S'
	for ((i = 0; i < runs; i++)); do
		line=$({ time "$@" >/dev/null 2>&1; } 2>&1)
		read -r r u s <<<"$line"
		walls+=("$r")
		cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN {print u+s}')")
	done
	local w c
	w=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]*1000}')
	c=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]*1000}')
	echo "$w $c"
}

# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }

# le A B: true when A <= B.
le() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a <= b)}'; }
