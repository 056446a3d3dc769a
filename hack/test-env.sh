# Sourced (bash) by the npm test wrappers: `. hack/test-env.sh`
# If no Docker endpoint is configured and the podman service that
# hack/podman-up.sh starts is answering, point testcontainers at it.
# Never exits or fails the caller.
if [ -z "${DOCKER_HOST:-}" ]; then
  _mp_dir="${MULTIPLANE_PODMAN_DIR:-/var/tmp/multiplane-podman}"
  if [ -S "$_mp_dir/podman.sock" ] &&
     [ "$(curl -fsS --max-time 3 --unix-socket "$_mp_dir/podman.sock" http://d/_ping 2>/dev/null)" = "OK" ]; then
    export DOCKER_HOST="unix://$_mp_dir/podman.sock"
    export TESTCONTAINERS_RYUK_DISABLED=true
    export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
    export CONTAINERS_CONF="$_mp_dir/containers.conf"
    export MULTIPLANE_ETCD_IMAGE="${MULTIPLANE_ETCD_IMAGE:-localhost/etcd:3.4}"
  fi
  unset _mp_dir
fi
