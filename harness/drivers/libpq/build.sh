#!/usr/bin/env bash
# Builds pgdrill's libpq driver agent into OUTDIR (docs/drivers.md): agent.c (with the files it includes) against Debian's libpq
# (libpq-dev), with cc. Idempotent; leaves OUTDIR/run, which starts the agent.
set -euo pipefail
out=${1:?usage: build.sh OUTDIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v cc >/dev/null || { echo "build libpq: no C compiler (cc): apt-get install gcc" >&2; exit 1; }
command -v pg_config >/dev/null || { echo "build libpq: libpq-dev is not installed: apt-get install libpq-dev" >&2; exit 1; }
includes=$(pg_config --includedir)
[ -f "$includes/libpq-fe.h" ] || { echo "build libpq: libpq-fe.h is missing from $includes: apt-get install libpq-dev" >&2; exit 1; }
mkdir -p "$out"
echo "build libpq: compiling agent.c against libpq $(pg_config --version | sed 's/^PostgreSQL //')"
cc -std=gnu11 -O2 -Wall -Wextra -Werror -I"$includes" -o "$out/agent.tmp" "$here/agent.c" "$here/json.c" \
  -L"$(pg_config --libdir)" -lpq -lm -pthread
mv -f "$out/agent.tmp" "$out/agent"
printf '#!/bin/sh\nexec "$(dirname "$0")/agent"\n' >"$out/run.tmp"
chmod +x "$out/run.tmp"
mv -f "$out/run.tmp" "$out/run"
echo "build libpq: built $out/run"
