#!/usr/bin/env bash
# Chart checks: helm lint, then helm template with the default values and every value set in
# charts/multiplane/ci/, each rendering (CRDs included) validated against the Kubernetes API
# schemas by hack/validate-manifests.ts. helm comes from hack/install-helm.sh; the schema
# models (kubernetes-models@4 and the cert-manager and Prometheus Operator ones) are installed
# into a tools directory, not into the project's dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="${MULTIPLANE_TOOLS_DIR:-/var/tmp/multiplane-tools}"
MODELS="$TOOLS/models"
MODEL_PACKAGES=(kubernetes-models@4.5.1 @kubernetes-models/cert-manager@4.4.4 @kubernetes-models/prometheus-operator@4.4.2)
CHART=charts/multiplane
log() { echo "[verify-chart] $*" >&2; }

helm="$(hack/install-helm.sh)"
if [ "$(cat "$MODELS/.installed" 2>/dev/null)" != "${MODEL_PACKAGES[*]}" ]; then
  log "installing ${MODEL_PACKAGES[*]} into $MODELS"
  rm -rf "$MODELS" && mkdir -p "$MODELS"
  echo '{ "private": true }' >"$MODELS/package.json"
  (cd "$MODELS" && npm install --no-audit --no-fund --loglevel=error "${MODEL_PACKAGES[@]}" >&2)
  echo "${MODEL_PACKAGES[*]}" >"$MODELS/.installed"
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
sets=(default "$CHART"/ci/*.yaml)
for values in "${sets[@]}"; do
  args=()
  name=default
  if [ "$values" != default ]; then args=(--values "$values"); name="$(basename "$values" .yaml)"; fi
  "$helm" lint --strict --quiet "$CHART" "${args[@]}" >&2
  "$helm" template multiplane "$CHART" --namespace multiplane-system --include-crds "${args[@]}" >"$out/$name.yaml"
  log "rendered $name: $(grep -c '^kind:' "$out/$name.yaml") documents"
done
node --import tsx hack/validate-manifests.ts --modules "$MODELS" "$out"/*.yaml
