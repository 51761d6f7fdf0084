#!/usr/bin/env bash
# Validate dist/krew/atlas.yaml (from hack/dist.sh) with krew's own validate-krew-manifest, built
# from the Go module proxy through the tools module hack/tools: first the manifest as released,
# then an install of every platform through krew, from the archives in dist/ served locally
# (the validator then also checks that each archive carries a LICENSE).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

if [[ ! -f dist/krew/atlas.yaml ]]; then
  echo "validate-krew: dist/krew/atlas.yaml not found: run 'make dist' (hack/dist.sh) first" >&2
  exit 1
fi
mkdir -p bin/tools
"$GO" build -C hack/tools -o "$PWD/bin/tools/" \
  sigs.k8s.io/krew/cmd/validate-krew-manifest sigs.k8s.io/krew/cmd/krew ./release
bin/tools/release check -manifest dist/krew/atlas.yaml -dist dist \
  -validator bin/tools/validate-krew-manifest -krew bin/tools/krew
echo "validate-krew: dist/krew/atlas.yaml OK"
