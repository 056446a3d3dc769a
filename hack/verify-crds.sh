#!/usr/bin/env bash
# The Helm chart's crds/ must be exact copies of the top-level crds/ (same files, same bytes).
#   hack/verify-crds.sh          check
#   hack/verify-crds.sh --fix    copy crds/ into the chart
set -euo pipefail
cd "$(dirname "$0")/.."
src=crds
dst=charts/multiplane/crds
compgen -G "$src/*.yaml" >/dev/null || { echo "[verify-crds] $src/ has no CRDs" >&2; exit 1; }
if [ "${1:-}" = --fix ]; then
  rm -rf "$dst" && mkdir -p "$dst" && cp "$src"/*.yaml "$dst"/
fi
if ! diff -r --exclude=".*" "$src" "$dst" >&2; then
  echo "[verify-crds] $dst differs from $src: run hack/verify-crds.sh --fix" >&2
  exit 1
fi
echo "[verify-crds] $dst is identical to $src ($(ls "$src"/*.yaml | wc -l) files)" >&2
