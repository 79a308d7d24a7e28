#!/usr/bin/env bash
# Builds pgdrill's pgjdbc agent into OUTDIR: the pinned pgjdbc jar from Maven Central (its .sha1
# checked), the agent's *.java (Agent.java is its main class) compiled by the machine's javac (Java 17), and OUTDIR/run,
# which starts it.
# Idempotent: a jar already there and matching its checksum is kept. Debian's libpostgresql-jdbc-java
# is the fallback when Maven Central cannot be reached (it is older: hello reports which ran).
#
# Why 42.7.14: 42.7.x is pgjdbc's only maintained line and what applications get from their
# framework's BOM today (Spring Boot 3.x/4.x, Quarkus); .14 is its newest patch release, with the
# security fixes of 42.7.2 (CVE-2024-1597) and 42.7.7 (CVE-2025-49146) that a current application has.
set -euo pipefail

VERSION=42.7.14
OUT=${1:?usage: build.sh OUTDIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail() { echo "pgjdbc agent: $*" >&2; exit 1; }

command -v javac >/dev/null || fail "javac is not installed: apt-get install openjdk-17-jdk-headless"
command -v java >/dev/null || fail "java is not installed: apt-get install openjdk-17-jre-headless"
JAVA_MAJOR=$(javac -version 2>&1 | sed -E 's/^javac ([0-9]+).*/\1/')
[ "${JAVA_MAJOR:-0}" -ge 17 ] 2>/dev/null || fail "javac is Java ${JAVA_MAJOR:-?}, not 17 or newer: apt-get install openjdk-17-jdk-headless"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

JAR="$OUT/postgresql-$VERSION.jar"
BASE="https://repo1.maven.org/maven2/org/postgresql/postgresql/$VERSION/postgresql-$VERSION.jar"
sha1_ok() { [ -s "$1" ] && [ -s "$1.sha1" ] && [ "$(sha1sum "$1" | cut -d' ' -f1)" = "$(cut -c1-40 "$1.sha1")" ]; }
if ! sha1_ok "$JAR"; then
  rm -f "$JAR" "$JAR.sha1"
  if curl -fsSL --retry 2 -m 120 -o "$JAR.sha1.part" "$BASE.sha1" && curl -fsSL --retry 2 -m 300 -o "$JAR.part" "$BASE"; then
    mv "$JAR.sha1.part" "$JAR.sha1"
    mv "$JAR.part" "$JAR"
    sha1_ok "$JAR" || { rm -f "$JAR" "$JAR.sha1"; fail "postgresql-$VERSION.jar from Maven Central does not match its .sha1: try again"; }
  else
    rm -f "$JAR.part" "$JAR.sha1.part"
    # The fallback: Debian's packaged pgjdbc (older, and not the pin).
    DEBIAN_JAR=/usr/share/java/postgresql.jar
    [ -f "$DEBIAN_JAR" ] ||
      fail "Maven Central is unreachable and Debian's pgjdbc is not installed: apt-get install libpostgresql-jdbc-java"
    echo "pgjdbc agent: Maven Central is unreachable; using Debian's $(readlink -f "$DEBIAN_JAR") instead of $VERSION" >&2
    JAR=$DEBIAN_JAR
  fi
fi

# A fresh classes folder: a class of an earlier version of the agent must not linger beside the new ones.
rm -rf "$OUT/classes"
mkdir -p "$OUT/classes"
javac -nowarn -d "$OUT/classes" -cp "$JAR" "$HERE"/*.java || fail "javac could not compile the agent's *.java"
# The run script finds its files beside itself: pgdrill builds into a temporary folder and renames it into place.
case "$JAR" in
  "$OUT"/*) JAR_IN_RUN="\$here/${JAR#"$OUT"/}" ;;
  *) JAR_IN_RUN=$JAR ;;
esac
cat > "$OUT/run.part" <<RUN
#!/bin/sh
# Starts pgdrill's pgjdbc agent (written by harness/drivers/pgjdbc/build.sh), with the JVM's defaults, as an application has them.
here=\$(cd "\$(dirname "\$0")" && pwd)
exec java -cp "\$here/classes:$JAR_IN_RUN" Agent
RUN
chmod +x "$OUT/run.part"
mv "$OUT/run.part" "$OUT/run"
