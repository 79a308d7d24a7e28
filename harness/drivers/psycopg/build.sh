#!/usr/bin/env bash
# Builds pgdrill's psycopg agent into OUTDIR: a venv with psycopg 3 pinned from PyPI (the binary wheel,
# which bundles its own libpq: hello reports both versions), agent.py, and OUTDIR/run, which starts it.
# Idempotent: a venv that already has the pin is kept. Debian's python3-psycopg (3.1.7 on bookworm,
# with the system's libpq) is the fallback when pip cannot reach PyPI.
#
# Why 3.3.9: 3.3 is psycopg 3's current line (3.2 gets only fixes), which Django 5.x/6 and SQLAlchemy 2
# applications install today with `psycopg[binary]`; .9 is its newest patch release.
set -euo pipefail

PIN="psycopg[binary]==3.3.9"
OUT=${1:?usage: build.sh OUTDIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail() { echo "psycopg agent: $*" >&2; exit 1; }

PYTHON=${PGDRILL_PYTHON:-python3}
command -v "$PYTHON" >/dev/null || fail "python3 is not installed: apt-get install python3 python3-venv"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
  fail "$("$PYTHON" --version 2>&1) is older than 3.10, which psycopg 3.3 needs"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
VENV="$OUT/venv"
has_pin() {
  [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import psycopg, sys; sys.exit(psycopg.__version__ != "3.3.9")' 2>/dev/null
}
has_any() { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import psycopg' 2>/dev/null; }

if ! has_pin; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" 2>/dev/null || fail "$PYTHON cannot make a venv: apt-get install python3-venv"
  if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check --timeout 60 "$PIN" >"$OUT/pip.log" 2>&1; then
    # The fallback: Debian's packaged psycopg, seen through a venv that sees the system's packages.
    rm -rf "$VENV"
    /usr/bin/python3 -c 'import psycopg' 2>/dev/null ||
      fail "pip could not install $PIN (see $OUT/pip.log) and Debian's python3-psycopg is not installed: apt-get install python3-psycopg"
    /usr/bin/python3 -m venv --system-site-packages --without-pip "$VENV" ||
      fail "/usr/bin/python3 cannot make a venv: apt-get install python3-venv"
    echo "psycopg agent: pip could not install $PIN (see $OUT/pip.log); using Debian's python3-psycopg instead" >&2
    has_any || fail "Debian's python3-psycopg is not importable from $VENV"
  fi
fi

cp "$HERE/agent.py" "$OUT/agent.py.part"
mv "$OUT/agent.py.part" "$OUT/agent.py"
# The run script finds its files beside itself: pgdrill builds into a temporary folder and renames it into place.
cat > "$OUT/run.part" <<'RUN'
#!/bin/sh
# Starts pgdrill's psycopg agent (written by harness/drivers/psycopg/build.sh).
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/venv/bin/python" -u "$here/agent.py"
RUN
chmod +x "$OUT/run.part"
mv "$OUT/run.part" "$OUT/run"
