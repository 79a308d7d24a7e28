#!/usr/bin/env bash
# Makes sure the container-pair drills have a PostgreSQL image, for the GitHub Action (action.yml).
# pgdrill picks, first match wins: --image, the scenario's target.image, PGDRILL_IMAGE, postgres:16
# if present, pgdrill/postgres:15-local if present (and pulls an explicitly named image itself).
# So: nothing to do where PGDRILL_IMAGE is set or one of those two is present; otherwise pull
# postgres:16, as GitHub's runners can. Without a Docker engine (drills on an endpoint target need
# none) or a registry it warns and goes on: a container drill then errors, saying which image it lacked.
set -euo pipefail

# shellcheck source=action/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
warn() {
  say "$*"
  annotate warning "pgdrill image" "$*"
}
image=postgres:16 # what pgdrill picks by itself when present

if [ -n "${PGDRILL_IMAGE:-}" ]; then
  say "PGDRILL_IMAGE is $PGDRILL_IMAGE: pgdrill uses it (and pulls it if absent)"
  exit 0
fi
if ! command -v docker >/dev/null || ! docker info >/dev/null 2>&1; then
  warn "no Docker engine answers: container-pair and cnpg drills will error; endpoint drills need none"
  exit 0
fi
for present in "$image" pgdrill/postgres:15-local; do
  if docker image inspect "$present" >/dev/null 2>&1; then
    say "image $present is present"
    exit 0
  fi
done
say "pulling $image"
if timeout 600 docker pull -q "$image" >&2; then
  say "pulled $image"
else
  warn "could not pull $image: container-pair drills will error unless PGDRILL_IMAGE names an image that is there"
fi
