#!/usr/bin/env bash
# npm test: lint, type check, then every test file, passed explicitly to node's runner
# (on Node 20 the runner finds no .ts files by itself and would pass with 0 tests).
#   --unit   skip the integration tests (test/integration, test/e2e, *.conformance.test.ts)
#            and the image they start
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
npx tsc -p testcontainers --noEmit
echo "== generated files" >&2
bash hack/openapi/verify.sh
bash hack/verify-crds.sh
echo "== helm chart" >&2
bash hack/verify-chart.sh

mapfile -t files < <(find apiserver operator test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
if $unit; then
  mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -v -e '^test/' -e '\.conformance\.test\.ts$')
fi
# The image test/e2e/testcontainers.test.ts starts (MULTIPLANE_IMAGE, default
# localhost/multiplane:dev), from these sources: podman's layer cache makes this about 10 s
# when only sources changed (CI's image phase built it already), minutes on a first build.
# With Docker instead of podman, build it yourself (the test says how when it is missing).
if ! $unit && command -v podman >/dev/null; then
  echo "== image" >&2
  bash hack/build-image.sh >/dev/null
fi
if ((${#files[@]} == 0)); then
  echo "no test files found" >&2
  exit 1
fi
echo "== tests (${#files[@]} files)" >&2
exec node --import tsx --test --test-timeout=600000 "${files[@]}"
