#!/usr/bin/env bash
# make test-stress: `make test` while CPU hogs saturate the machine (HOGS busy processes, by
# default twice the number of cores), stopping at the first failing package. Tests must not
# depend on how fast the machine is; this is how CI's busy machines are reproduced on purpose.
# RUNS=N repeats it; each run's time is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
HOGS=${HOGS:-$((2 * $(nproc)))}
RUNS=${RUNS:-1}
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop EXIT
for ((i = 0; i < HOGS; i++)); do
  (while :; do :; done) &
  pids+=($!)
done
echo "test-stress: $HOGS CPU hogs on $(nproc) cores" >&2
for ((r = 1; r <= RUNS; r++)); do
  start=$SECONDS
  # -failfast stops a package at its first failure, make at the first failing package; -count=1
  # runs every test again (a cached result would say nothing about this load).
  GOFLAGS="${GOFLAGS:-} -failfast -count=1" make test
  echo "test-stress: run $r of $RUNS passed in $((SECONDS - start)) s under $HOGS hogs" >&2
done
