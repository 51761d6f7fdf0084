#!/usr/bin/env bash
# Prints the path of the `atlas` the Atlas Operator should run (make e2e, make demo), building it
# when needed:
#   - an official atlas on PATH ("atlas version v...") is used as is;
#   - a community build on PATH ("atlas community version v...") gets the compatibility wrapper
#     (hack/atlascompat) in front of it;
#   - otherwise the community edition is built from $ATLAS_SRC (default
#     ../shared/third_party/atlas-v1.2.3 beside the repository, a copy of github.com/ariga/atlas)
#     into bin/atlas-community, with the wrapper in bin/atlas-compat/atlas.
# With --quiet-missing it prints nothing and exits 3 when no atlas can be had (the demo then plays
# the operator); otherwise that is a one-line error, exit 1. What it uses goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
ATLAS_SRC=${ATLAS_SRC:-../shared/third_party/atlas-v1.2.3}
ATLAS_VERSION=${ATLAS_VERSION:-v1.2.3}
# --check: only say (exit 1) when no atlas can be had, before anything slow is built.
quiet_missing=false check=false
[[ "${1:-}" == --quiet-missing ]] && quiet_missing=true
[[ "${1:-}" == --check ]] && check=true
missing() {
  echo "no atlas CLI: install the official one (curl -sSf https://atlasgo.sh | sh) or set ATLAS_SRC to a checkout of github.com/ariga/atlas to build the community edition (not found: $ATLAS_SRC)" >&2
  exit 1
}
if $check; then
  command -v atlas >/dev/null || [[ -x bin/atlas-community || -f "$ATLAS_SRC/cmd/atlas/main.go" ]] || missing
  exit 0
fi

wrapper() { # build the compatibility wrapper (seconds, the main module's cache)
  "$GO" build -o bin/atlas-compat/atlas ./hack/atlascompat >&2
}

if official=$(command -v atlas 2>/dev/null) && [[ "$official" != "$PWD/bin/atlas-compat/atlas" ]]; then
  line=$("$official" version 2>/dev/null | sed -n 1p || true)
  case "$line" in
    "atlas version v"*)
      echo "atlas: the official binary on PATH ($official, $line)" >&2
      echo "$official"; exit 0 ;;
    "atlas community version v"*)
      mkdir -p bin && ln -sf "$official" bin/atlas-community && wrapper
      echo "atlas: the community build on PATH ($official, $line) behind bin/atlas-compat/atlas" >&2
      echo "$PWD/bin/atlas-compat/atlas"; exit 0 ;;
  esac
fi

if [[ ! -x bin/atlas-community ]]; then
  if [[ ! -f "$ATLAS_SRC/cmd/atlas/main.go" ]]; then
    $quiet_missing && exit 3
    missing
  fi
  echo "atlas: building the community edition $ATLAS_VERSION from $ATLAS_SRC (about 5 min cold)" >&2
  # A writable copy: the build may want to update go.sum, and the source may be read-only.
  rm -rf bin/atlas-src && mkdir -p bin/atlas-src && cp -R "$ATLAS_SRC"/. bin/atlas-src/ && chmod -R u+w bin/atlas-src
  (cd bin/atlas-src/cmd/atlas && "$GO" build -ldflags "-X 'ariga.io/atlas/cmd/atlas/internal/cmdapi.version=$ATLAS_VERSION'" \
    -o ../../../atlas-community .) >&2
fi
wrapper
echo "atlas: the community build bin/atlas-community ($(bin/atlas-community version | sed -n 1p)) behind bin/atlas-compat/atlas" >&2
echo "$PWD/bin/atlas-compat/atlas"
