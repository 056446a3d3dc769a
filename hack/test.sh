#!/usr/bin/env bash
# npm test: lint, type check, then every test file, passed explicitly to node's runner
# (on Node 20 the runner finds no .ts files by itself and would pass with 0 tests).
#   --unit   skip the integration tests (test/integration, test/e2e, *.conformance.test.ts)
set -euo pipefail
cd "$(dirname "$0")/.."

unit=false
[[ "${1:-}" == "--unit" ]] && unit=true

# Container runtime for testcontainers: podman's socket when hack/podman-up.sh started it.
# shellcheck source=hack/test-env.sh
source hack/test-env.sh

echo "== lint" >&2
npx eslint .
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
echo "== type check" >&2
npx tsc -p . --noEmit
echo "== generated files" >&2
bash hack/openapi/verify.sh
bash hack/verify-crds.sh
echo "== helm chart" >&2
bash hack/verify-chart.sh

mapfile -t files < <(find apiserver operator test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
if $unit; then
  mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -v -e '^test/' -e '\.conformance\.test\.ts$')
fi
if ((${#files[@]} == 0)); then
  echo "no test files found" >&2
  exit 1
fi
echo "== tests (${#files[@]} files)" >&2
exec node --import tsx --test --test-timeout=600000 "${files[@]}"
