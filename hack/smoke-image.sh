#!/usr/bin/env bash
# Smoke test of the multiplane image with podman, under the restrictions the Helm chart sets
# (read-only root filesystem, no capabilities, no privilege escalation, uid 1000):
#   - `multiplane up --host 0.0.0.0` (data in an anonymous volume) serves /readyz on the published port, and the real kubectl
#     lists namespaces with the admin kubeconfig it wrote;
#   - it runs as uid 1000 and the image has no compilers;
#   - `podman stop` (SIGTERM) ends it with exit code 0 or 143 well before the 10 s SIGKILL.
#
#   hack/smoke-image.sh [IMAGE]        (default localhost/multiplane:dev)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${1:-localhost/multiplane:dev}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-/var/tmp/multiplane-podman/containers.conf}"
KUBECTL="${KUBECTL:-/usr/bin/kubectl}"
log() { echo "[smoke-image] $*" >&2; }
die() { log "FAIL: $*"; [ -n "${cid:-}" ] && podman logs --tail 30 "$cid" >&2 || true; exit 1; }

port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
work="$(mktemp -d)"
cid=""
cleanup() { [ -n "$cid" ] && podman rm -f --volumes "$cid" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT

cid="$(podman run -d --read-only --tmpfs /tmp --volume /var/lib/multiplane \
  --cap-drop=ALL --security-opt=no-new-privileges -p "127.0.0.1:$port:6443" \
  "$IMAGE" up --host 0.0.0.0)"
t0=$SECONDS
until curl -ksf --max-time 2 "https://127.0.0.1:$port/readyz" >/dev/null; do
  [ "$(podman inspect --format '{{.State.Running}}' "$cid")" = true ] || die "the container exited"
  ((SECONDS - t0 < 60)) || die "/readyz did not answer within 60 s"
  sleep 0.5
done
log "/readyz answered after $((SECONDS - t0)) s"

[ "$(podman exec "$cid" id -u)" = 1000 ] || die "not running as uid 1000"
compilers="$(podman exec "$cid" sh -c 'for c in gcc g++ cc c++ make python3; do command -v $c; done' || true)"
[ -z "$compilers" ] || die "build tools in the image: $compilers"

podman exec "$cid" cat /var/lib/multiplane/.multiplane/admin.kubeconfig >"$work/admin.kubeconfig"
"$KUBECTL" --kubeconfig "$work/admin.kubeconfig" --server "https://127.0.0.1:$port" get namespaces >&2 ||
  die "kubectl get namespaces failed"

t0="$(date +%s.%N)"
podman stop --time 10 "$cid" >/dev/null
took="$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
code="$(podman inspect --format '{{.State.ExitCode}}' "$cid")"
{ [ "$code" = 0 ] || [ "$code" = 143 ]; } || die "exit code $code after SIGTERM"
awk -v t="$took" 'BEGIN { exit !(t < 8) }' || die "SIGTERM took ${took} s (killed?)"
log "stopped by SIGTERM in ${took} s, exit code $code"
log "ok: $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE") bytes)"
