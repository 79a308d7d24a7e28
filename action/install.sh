#!/usr/bin/env bash
# Finds or installs pgdrill for the GitHub Action (action.yml), in the current directory's project.
#
#   INPUT_VERSION   empty: the project's own pgdrill (node_modules/pgdrill, or `npm ci` where
#                   package.json depends on it and package-lock.json exists), else the latest from
#                   the registry. A version, range or dist-tag: that version from the registry (the
#                   project's own if it is exactly that version). A path to a tarball (.tgz) or a
#                   package directory: that package (the repository's own workflows use its `npm pack`).
#   PGDRILL_PREFIX  where a pgdrill that is not the project's goes (default
#                   $RUNNER_TEMP/pgdrill-action): outside the project, so its package.json,
#                   lockfile and node_modules stay as they were.
#
# Writes bin=<absolute path of the pgdrill executable> and version=<its version> to $GITHUB_OUTPUT
# (to stdout where that is not set). Exits non-zero, saying why, when nothing could be installed.
set -euo pipefail

# shellcheck source=action/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
fail() {
  say "$*"
  annotate error "pgdrill install" "$*"
  exit 1
}
output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; else printf '%s=%s\n' "$1" "$2"; fi
}
# The "version" field of a package.json, or nothing.
package_version() {
  node -e 'try { process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version ?? "")) } catch {}' "$1"
}

command -v node >/dev/null || fail "node is not on PATH (the action runs actions/setup-node first)"
command -v npm >/dev/null || fail "npm is not on PATH"

version=${INPUT_VERSION:-}
version=${version#"${version%%[![:space:]]*}"}
version=${version%"${version##*[![:space:]]}"}
prefix=${PGDRILL_PREFIX:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/pgdrill-action}

project_bin="$PWD/node_modules/.bin/pgdrill"
project_version=""
if [ -f node_modules/pgdrill/package.json ] && [ -x "$project_bin" ]; then
  project_version=$(package_version node_modules/pgdrill/package.json)
fi
# The range the project's package.json asks for (dependencies, devDependencies or optionalDependencies).
declared=""
if [ -f package.json ]; then
  declared=$(node -e '
    try {
      const p = JSON.parse(require("fs").readFileSync("package.json", "utf8"));
      const range = [p.dependencies, p.devDependencies, p.optionalDependencies].map((d) => d?.pgdrill).find(Boolean);
      if (range) process.stdout.write(String(range));
    } catch {}')
fi

use() {
  local bin=$1
  [ -x "$bin" ] || fail "no pgdrill executable at $bin after installing"
  local v
  v=$("$bin" --version 2>/dev/null | tail -n 1) || fail "$bin --version failed: the installed pgdrill does not run on $(node -v)"
  say "pgdrill $v: $bin"
  output bin "$bin"
  output version "$v"
  exit 0
}

install_private() {
  local spec=$1
  say "installing $spec into $prefix (the project's package.json and lockfile are not touched)"
  mkdir -p "$prefix"
  # --install-links: a directory is packed and installed as the registry's package would be, not linked.
  npm install --prefix "$prefix" --no-save --no-package-lock --install-links --no-audit --no-fund --loglevel=error "$spec" >&2 ||
    fail "npm install $spec failed"
  use "$prefix/node_modules/.bin/pgdrill"
}

is_path() {
  case "$1" in /* | ./* | ../* | "~"* | *.tgz | *.tar.gz) return 0 ;; esac
  [ -e "$1" ]
}

if [ -n "$version" ] && is_path "$version"; then
  path=$version
  case "$path" in "~"/*) path="$HOME/${path#"~"/}" ;; esac
  [ -e "$path" ] || fail "version: $version is neither a pgdrill version nor an existing tarball or directory"
  install_private "$(cd "$(dirname "$path")" && pwd)/$(basename "$path")"
elif [ -n "$version" ]; then
  if [ -n "$project_version" ] && [ "$project_version" = "${version#v}" ]; then
    say "the project's node_modules has pgdrill $project_version"
    use "$project_bin"
  fi
  install_private "pgdrill@$version"
elif [ -n "$project_version" ]; then
  say "the project's node_modules has pgdrill $project_version"
  use "$project_bin"
elif [ -n "$declared" ] && { [ -f package-lock.json ] || [ -f npm-shrinkwrap.json ]; }; then
  say "package.json depends on pgdrill ($declared): npm ci in $PWD"
  npm ci --no-audit --no-fund --loglevel=error >&2 || fail "npm ci failed in $PWD"
  [ -x "$project_bin" ] || fail "npm ci did not install pgdrill into $PWD/node_modules"
  use "$project_bin"
elif [ -n "$declared" ]; then
  say "package.json depends on pgdrill ($declared) but has no package-lock.json: installing that privately"
  case "$declared" in
    file:/*) ;;
    file:*) declared="file:$PWD/${declared#file:}" ;; # relative to the project, not to the prefix
  esac
  install_private "pgdrill@$declared"
else
  install_private "pgdrill@latest"
fi
