#!/usr/bin/env bash
# Brings up a rootful podman that serves the Docker API for testcontainers,
# and builds the local etcd image the integration tests use (no container
# registry is reachable, so nothing is pulled). Idempotent: a second run finds
# the service answering and the image present and only prints the env again.
#
#   eval "$(hack/podman-up.sh)"
#
# stdout: only `export NAME=value` lines. Progress goes to stderr.
# Needs hack/install-deps.sh to have run first (podman, runc, etcd, busybox).
#
# Env knobs:
#   MULTIPLANE_PODMAN_DIR      state dir (default /var/tmp/multiplane-podman)
#   MULTIPLANE_ETCD_IMAGE      image name to build (default localhost/etcd:3.4)
#   MULTIPLANE_REBUILD_IMAGE=1 rebuild the image even if it exists
set -euo pipefail

log() { echo "[podman-up] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

DIR="${MULTIPLANE_PODMAN_DIR:-/var/tmp/multiplane-podman}"
SOCK="$DIR/podman.sock"
CONF="$DIR/containers.conf"
PIDFILE="$DIR/podman-service.pid"
LOGFILE="$DIR/podman-service.log"
IMAGE="${MULTIPLANE_ETCD_IMAGE:-localhost/etcd:3.4}"

for c in podman curl tar ldd setsid; do
  command -v "$c" >/dev/null 2>&1 || die "'$c' not found (run hack/install-deps.sh first)"
done

mkdir -p "$DIR"

# --- (a) containers.conf -----------------------------------------------------
# podman 4.3 (bookworm): default_ulimits is under [containers]; runtime,
# exit_command_delay, cgroup_manager, events_logger are under [engine].
#  - runc: crun fails here (cgroups in hybrid mode).
#  - default_ulimits: the defaults fail with
#    "setrlimit RLIMIT_NOFILE: Operation not permitted".
#  - exit_command_delay: otherwise every exec leaves conmon around for 300 s.
#  - cgroupfs/file: no systemd/journald inside these machines.
desired_conf='# Written by hack/podman-up.sh; overwritten on every run.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
exit_command_delay = 5
cgroup_manager = "cgroupfs"
events_logger = "file"
'
conf_changed=0
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$(printf '%s' "$desired_conf")" ]; then
  printf '%s' "$desired_conf" >"$CONF.tmp"
  mv -f "$CONF.tmp" "$CONF"
  conf_changed=1
  log "wrote $CONF"
fi
export CONTAINERS_CONF="$CONF"

# --- (b) podman system service -----------------------------------------------
ping_ok() {
  [ -S "$SOCK" ] && [ "$(curl -fsS --max-time 3 --unix-socket "$SOCK" http://d/_ping 2>/dev/null)" = "OK" ]
}

our_pid() {
  # pid of the service we started earlier, if it is still that process
  [ -f "$PIDFILE" ] || return 1
  local pid; pid="$(cat "$PIDFILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "system service" \
    && echo "$pid"
}

stop_pid() {
  # SIGTERM (podman takes a second or two to shut down), SIGKILL after 10 s
  local pid="$1"
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  sleep 0.2
}

if [ "$conf_changed" = 1 ] && pid="$(our_pid)"; then
  log "containers.conf changed: restarting podman service (pid $pid)"
  stop_pid "$pid"
fi

if ping_ok; then
  log "podman service already answering on $SOCK"
else
  if pid="$(our_pid)"; then
    log "podman service pid $pid exists but does not answer: stopping it"
    stop_pid "$pid"
  fi
  rm -f "$SOCK"
  log "starting podman system service on $SOCK (log: $LOGFILE)"
  # setsid+nohup: own session, survives this script and its terminal. From / (env -C):
  # conmon inherits the working directory, and a removed one breaks every container start.
  CONTAINERS_CONF="$CONF" setsid nohup env -C / podman system service --time=0 "unix://$SOCK" \
    >>"$LOGFILE" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for i in $(seq 1 300); do
    ping_ok && break
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      tail -n 30 "$LOGFILE" >&2 || true
      die "podman system service exited; see $LOGFILE"
    fi
    [ "$i" = 300 ] && { tail -n 30 "$LOGFILE" >&2 || true; die "podman service did not answer on $SOCK within 30 s"; }
    sleep 0.1
  done
  log "podman service up (pid $(cat "$PIDFILE"))"
fi

# --- (c) local etcd image ----------------------------------------------------
# The label records what the image was built from; a different recipe or a
# different etcd package rebuilds it.
RECIPE="1/etcd-$(dpkg-query -W -f='${Version}' etcd-server 2>/dev/null || echo unknown)"
have_recipe=""
if podman image exists "$IMAGE"; then
  have_recipe="$(podman image inspect --format '{{index .Labels "multiplane.recipe"}}' "$IMAGE" 2>/dev/null || true)"
fi
if [ "${MULTIPLANE_REBUILD_IMAGE:-0}" != 1 ] && [ "$have_recipe" = "$RECIPE" ]; then
  log "image $IMAGE already exists ($RECIPE)"
else
  old_id="$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
  for f in /usr/bin/etcd /usr/bin/etcdctl /bin/busybox; do
    [ -x "$f" ] || die "$f missing (run hack/install-deps.sh first)"
  done
  log "building $IMAGE"
  work="$(mktemp -d "$DIR/rootfs.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  root="$work/rootfs"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/local/bin,etc,tmp,var/lib/etcd,root,proc,sys,dev}
  chmod 1777 "$root/tmp"

  cp -L /usr/bin/etcd /usr/bin/etcdctl "$root/usr/bin/"
  # every shared lib the binaries need, at the path the loader looks for it
  libs="$(ldd /usr/bin/etcd /usr/bin/etcdctl 2>/dev/null \
    | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $2 ~ /^\(/ {print $1}' | sort -u)"
  for lib in $libs; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done

  # static busybox as /bin/sh plus its applets (testcontainers' port wait
  # runs a shell with cat/awk/nc; handy for debugging too)
  cp -L /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done

  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"

  changes=(--change 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'
           --change 'WORKDIR /'
           --change 'CMD ["/usr/bin/etcd"]'
           --change "LABEL multiplane.recipe=$RECIPE")
  case "$(uname -m)" in
    aarch64) changes+=(--change 'ENV ETCD_UNSUPPORTED_ARCH=arm64') ;;
  esac
  tar -C "$root" -c . | podman import --quiet "${changes[@]}" - "$IMAGE" >/dev/null
  rm -rf "$work"
  trap - EXIT
  # drop the image this one replaced (fails harmlessly if a container uses it)
  if [ -n "$old_id" ] && [ "$old_id" != "$(podman image inspect --format '{{.Id}}' "$IMAGE")" ]; then
    podman rmi "$old_id" >/dev/null 2>&1 || true
  fi
  log "built $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE") bytes)"
fi

# --- (d) env for the tests ---------------------------------------------------
cat <<OUT
export DOCKER_HOST=unix://$SOCK
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
export CONTAINERS_CONF=$CONF
export MULTIPLANE_ETCD_IMAGE=$IMAGE
OUT
