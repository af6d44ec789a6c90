#!/usr/bin/env bash
# make dist: static, cgo-free binaries of axiom for Linux, macOS and Windows
# on amd64 and arm64, with SHA256SUMS, built offline from the module cache
# (run `go mod download` once while online). The version the binaries
# report (`axiom version`, the client's User-Agent, `go version -m`) is the
# go command's: the tag of a clean checkout, else a pseudo-version.
#
#   DIST=dist            where the binaries go (emptied first)
#   TARGETS="linux/amd64 …"   GOOS/GOARCH pairs, the six by default
set -euo pipefail
cd "$(dirname "$0")/.."

out=${DIST:-dist}
targets=${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64}
GO=${GO:-go}
export CGO_ENABLED=0 GOPROXY=off GOFLAGS="${GOFLAGS:-} -mod=readonly" GOTOOLCHAIN=local

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

src=$PWD
if git rev-parse --git-dir >/dev/null 2>&1; then
  if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "dist: uncommitted changes are left out: building $(git rev-parse --short HEAD) as committed" >&2
  fi
  src=$(mktemp -d)
  trap 'rm -rf "$src"' EXIT
  git clone --quiet --no-checkout "$PWD" "$src"
  git -C "$src" checkout --quiet --detach "$(git rev-parse HEAD)"
  vcs=-buildvcs=true
else
  vcs=-buildvcs=auto
fi
cd "$src"

for t in $targets; do
  os=${t%/*} arch=${t#*/} ext=
  [ "$os" = windows ] && ext=.exe
  bin="axiom-$os-$arch$ext"
  echo "building $bin" >&2
  if ! GOOS=$os GOARCH=$arch "$GO" build "$vcs" -trimpath -ldflags='-s -w' -o "$out/$bin" ./cmd/axiom; then
    echo "dist: building $bin failed (offline: is the module cache complete? run go mod download once online)" >&2
    exit 1
  fi
done
(
  cd "$out"
  if command -v sha256sum >/dev/null; then sha256sum axiom-*; else shasum -a 256 axiom-*; fi > SHA256SUMS
)
echo "dist: $(ls "$out" | wc -l) files in $out/" >&2
