#!/usr/bin/env bash
# A narrow stand-in for the docker command, for pgdrill's own kind calls only, on hosts where
# `docker run --privileged` fails (a sandbox whose capability bounding set lacks CAP_SYS_RESOURCE:
# "unable to apply caps: operation not permitted"). kind always passes --privileged to the node
# containers it runs; this rewrites that one flag into what a node needs and the host can grant:
# every capability it has, no seccomp/AppArmor confinement, unmasked /proc and /sys paths, every
# device (and /dev/kmsg passed through). The cgroup hierarchy Docker mounts read-only without
# --privileged is remounted writable inside the node by pgdrill's node image (fixtures/kind/build.sh).
# `docker exec --privileged` loses the flag. Every other docker call passes through unchanged. pgdrill puts it first on kind's PATH only after
# it has seen --privileged fail, and says so in the run's log.
set -euo pipefail
real=${PGDRILL_REAL_DOCKER:?PGDRILL_REAL_DOCKER must name the real docker binary}
case "${1:-}" in
  run) shift ;;
  # `docker exec --privileged` fails the same way; without it, the process gets the node's own
  # capabilities, which are already every one the host grants.
  exec) shift; args=(); for arg in "$@"; do [ "$arg" = --privileged ] || args+=("$arg"); done; exec "$real" exec "${args[@]}" ;;
  *) exec "$real" "$@" ;;
esac
privileged=false
for arg in "$@"; do [ "$arg" = --privileged ] && privileged=true; done
if ! $privileged; then exec "$real" run "$@"; fi
args=()
for arg in "$@"; do [ "$arg" = --privileged ] || args+=("$arg"); done
# The node's options go before the image name, which is the first argument kind gives after its
# options; kind puts its flags first, so prepending keeps the image and its arguments last.
extra=(--cap-add ALL --cap-drop SYS_RESOURCE
  --security-opt systempaths=unconfined
  --device-cgroup-rule 'a *:* rwm')
[ -e /dev/kmsg ] && extra+=(--device /dev/kmsg)
exec "$real" run "${extra[@]}" "${args[@]}"
