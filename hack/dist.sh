#!/usr/bin/env bash
# `make dist`: release archives of kubectl-atlas and the rendered krew manifest.
#
#   dist/kubectl-atlas_<version>_<os>_<arch>.tar.gz   linux, darwin  x amd64, arm64
#   dist/kubectl-atlas_<version>_windows_<arch>.zip   windows        x amd64, arm64
#   dist/krew/atlas.yaml                              krew.yaml rendered with the real sha256 sums
#   dist/checksums.txt                                sha256 of every archive
#
# Each archive holds the binary, kubectl_complete-atlas and LICENSE at its root. The version,
# commit and build date are set through -ldflags on plugin.version/commit/date (as the Makefile's
# LDFLAGS do) and `kubectl atlas version` reports them.
#
# Environment:
#   VERSION            release version, a semver with a leading v (default: `git describe --tags`
#                      of a v* tag, else v0.0.0-dev.g<commit>[.dirty]); krew rejects anything else
#   SOURCE_DATE_EPOCH  build date and archive timestamps (default: the commit time), so the same
#                      commit gives byte-identical archives and sha256 sums
#   PLATFORMS          space-separated os/arch list (default: all six)
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
PKG=github.com/kubectl-atlas/kubectl-atlas
PLATFORMS=${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64}

if [[ -z "${VERSION:-}" ]]; then
  if ! VERSION=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
    VERSION="v0.0.0-dev.g$(git rev-parse --short HEAD)"
    git diff --quiet HEAD -- 2>/dev/null || VERSION+=".dirty"
  fi
fi
if ! [[ "$VERSION" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$ ]]; then
  echo "dist: VERSION=$VERSION is not a semantic version with a leading v (krew needs one, e.g. v0.1.0)" >&2
  exit 2
fi
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
DATE=$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$EPOCH" +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS="-s -w -X $PKG/plugin.version=$VERSION -X $PKG/plugin.commit=$COMMIT -X $PKG/plugin.date=$DATE"

# Build into a fresh directory and swap it in at the end: a failed run leaves the old dist/ alone.
OUT=dist.new
rm -rf "$OUT"
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$OUT/build" bin/tools

echo "dist: building the release tool (hack/tools)"
"$GO" build -C hack/tools -o "$PWD/bin/tools/release" ./release

for p in $PLATFORMS; do
  os=${p%/*} arch=${p#*/}
  exe=kubectl-atlas ext=tar.gz
  [[ $os == windows ]] && exe=kubectl-atlas.exe ext=zip
  dir="$OUT/build/${os}_${arch}"
  echo "dist: $VERSION $os/$arch"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -trimpath -ldflags "$LDFLAGS" -o "$dir/$exe" ./cmd/kubectl-atlas
  bin/tools/release archive -mtime "$EPOCH" -o "$OUT/kubectl-atlas_${VERSION}_${os}_${arch}.$ext" \
    "$dir/$exe" kubectl_complete-atlas LICENSE
done

# The binary for this machine must report what was stamped into it.
host="$("$GO" env GOOS)_$("$GO" env GOARCH)"
if [[ -x "$OUT/build/$host/kubectl-atlas" ]]; then
  got=$("$OUT/build/$host/kubectl-atlas" version)
  [[ "$got" == *"$VERSION (commit $COMMIT, built $DATE"* ]] || { echo "dist: version stamp missing: $got" >&2; exit 1; }
  echo "dist: $got"
fi

bin/tools/release render -template krew.yaml -tag "$VERSION" -dist "$OUT" -o "$OUT/krew/atlas.yaml"
(
  cd "$OUT"
  if command -v sha256sum >/dev/null; then sha256sum -- *.tar.gz *.zip; else shasum -a 256 -- *.tar.gz *.zip; fi
) >"$OUT/checksums.txt"
rm -rf "$OUT/build"

rm -rf dist
mv "$OUT" dist
trap - EXIT
echo "dist: archives (bytes):"
for f in dist/*.tar.gz dist/*.zip; do
  printf '  %-52s %9d\n' "${f#dist/}" "$(wc -c <"$f")"
done
echo "dist: krew manifest dist/krew/atlas.yaml; validate it with hack/validate-krew.sh"
