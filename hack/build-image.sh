#!/usr/bin/env bash
# Builds the multiplane image from the Containerfile with podman.
#
#   hack/build-image.sh                 builds localhost/multiplane:dev
#
# No container registry is reachable on these machines, so when the base image
# (MULTIPLANE_BASE_IMAGE, default docker.io/library/node:20-bookworm-slim) is not
# present locally, a local base is assembled instead: a Debian bookworm minbase
# (mmdebstrap, from the Debian mirror) plus this machine's Node 20 (binary and
# npm); the build stage gets the machine's Node headers mounted for node-gyp. The base is
# kept as localhost/multiplane-base:node<version>-r<recipe> and reused.
#
# Env knobs:
#   MULTIPLANE_IMAGE        image to build (default localhost/multiplane:dev)
#   MULTIPLANE_BASE_IMAGE   base image (default docker.io/library/node:20-bookworm-slim)
#   DEBIAN_MIRROR           mirror for the local base (default http://deb.debian.org/debian)
# Progress goes to stderr; stdout is only the image name.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[build-image] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

IMAGE="${MULTIPLANE_IMAGE:-localhost/multiplane:dev}"
BASE="${MULTIPLANE_BASE_IMAGE:-docker.io/library/node:20-bookworm-slim}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-/var/tmp/multiplane-podman/containers.conf}"
[ -f "$CONTAINERS_CONF" ] || die "$CONTAINERS_CONF missing (run hack/podman-up.sh first)"
command -v podman >/dev/null || die "podman not found (run hack/install-deps.sh first)"

# --- the base image ----------------------------------------------------------------
if podman image exists "$BASE"; then
  log "base image $BASE is present"
else
  node_bin="$(command -v node)"
  node_version="$(node -p process.versions.node)"
  [ "${node_version%%.*}" = 20 ] || die "the local base needs Node 20, this machine has $node_version"
  node_prefix="$(dirname "$(dirname "$(readlink -f "$node_bin")")")"
  npm_dir="$node_prefix/lib/node_modules/npm"
  headers="$node_prefix/include/node"
  [ -f "$npm_dir/bin/npm-cli.js" ] || die "npm not found at $npm_dir"
  [ -f "$headers/node.h" ] || die "Node headers not found at $headers (node-gyp needs them offline)"
  # The tag names the recipe: change the suffix when the assembly below changes.
  BASE="localhost/multiplane-base:node$node_version-r1"
  if podman image exists "$BASE"; then
    log "local base $BASE is present"
  else
    command -v mmdebstrap >/dev/null || die "mmdebstrap not found (run hack/install-deps.sh first)"
    log "assembling $BASE: Debian bookworm minbase from $MIRROR + Node $node_version"
    t0=$SECONDS
    rootfs="$(mktemp /var/tmp/multiplane-base.XXXXXX.tar)"
    trap 'rm -f "$rootfs"' EXIT
    # The base user is `node` (uid 1000) as in the upstream image; docs, man pages and
    # locales are left out.
    mmdebstrap --quiet --variant=minbase --mode=root \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      --customize-hook="copy-in $(readlink -f "$node_bin") /usr/bin" \
      --customize-hook='mkdir -p "$1/usr/lib/node_modules/npm"' \
      --customize-hook="sync-in $npm_dir /usr/lib/node_modules/npm" \
      --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/bin/npm"' \
      --customize-hook='chroot "$1" useradd --uid 1000 --user-group --create-home --shell /bin/bash node' \
      --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
      bookworm "$rootfs" "$MIRROR"
    podman import --quiet \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["node"]' \
        "$rootfs" "$BASE" >/dev/null
    rm -f "$rootfs"
    trap - EXIT
    log "local base $BASE built in $((SECONDS - t0)) s"
  fi
fi

# --- the image -----------------------------------------------------------------------
build_args=(--build-arg "BASE_IMAGE=$BASE")
if [ -n "${headers:-}" ]; then
  build_args+=(--volume "$headers:/opt/node-headers/include/node:ro" --build-arg NODE_HEADERS=/opt/node-headers)
fi
# Registries reached through a TLS-intercepting proxy: hand the build stage this machine's
# CA bundle (mounted for the build only, never copied into the image).
ca_bundle=/etc/ssl/certs/ca-certificates.crt
if [ -f "$ca_bundle" ]; then
  build_args+=(--volume "$ca_bundle:/run/host-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/host-ca.crt)
fi
log "building $IMAGE from $BASE"
t0=$SECONDS
podman build --quiet --file Containerfile --tag "$IMAGE" "${build_args[@]}" . >/dev/null
log "built $IMAGE in $((SECONDS - t0)) s ($(podman image inspect --format '{{.Size}}' "$IMAGE") bytes)"
echo "$IMAGE"
