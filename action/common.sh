# Sourced by the action's scripts: their log lines, GitHub's workflow commands (annotations, printed
# only inside GitHub Actions and escaped as GitHub expects), and the inputs that both validate.sh
# and run-drills.sh read (scenarios, gates, which pgdrill), parsed one way for both.

say() { printf 'pgdrill-action: %s\n' "$*" >&2; }
in_actions() { [ "${GITHUB_ACTIONS:-}" = "true" ]; }
# Text for a workflow command (::error:: …): %, CR and LF escaped.
escape() {
  local s=${1//%/%25}
  s=${s//$'\r'/%0D}
  printf '%s' "${s//$'\n'/%0A}"
}
# annotate LEVEL TITLE MESSAGE: an error, warning or notice on the workflow run.
annotate() {
  in_actions || return 0
  printf '::%s title=%s::%s\n' "$1" "$(escape "$2")" "$(escape "$3")"
}

trim() {
  local s=$1
  s=${s%$'\r'}
  s=${s#"${s%%[![:space:]]*}"}
  s=${s%"${s##*[![:space:]]}"}
  printf '%s' "$s"
}

NO_SCENARIO="no scenario given: set scenarios to one or more shipped names (pgdrill list) or paths"

# INPUT_SCENARIOS → the array `scenarios`: lines, each one scenario if it names an existing file,
# else split on spaces and tabs; blank lines and # comments skipped.
parse_scenarios() {
  local raw line
  local -a words
  scenarios=()
  while IFS= read -r raw || [ -n "$raw" ]; do
    line=$(trim "$raw")
    [ -z "$line" ] && continue
    case "$line" in '#'*) continue ;; esac
    if [ -f "$line" ]; then
      scenarios+=("$line")
    else
      read -r -a words <<<"$line"
      scenarios+=("${words[@]}")
    fi
  done <<<"${INPUT_SCENARIOS:-}"
}

# INPUT_GATES → the array `gate_args`: --gate and a line, for each line that is not blank or a comment.
parse_gates() {
  local raw line
  gate_args=()
  while IFS= read -r raw || [ -n "$raw" ]; do
    line=$(trim "$raw")
    [ -z "$line" ] && continue
    case "$line" in '#'*) continue ;; esac
    gate_args+=(--gate "$line")
  done <<<"${INPUT_GATES:-}"
}

# PGDRILL_BIN → the array `pgdrill`: an executable's path, or a command line split on spaces
# (default: npx --no-install pgdrill).
pgdrill_command() {
  if [ -n "${PGDRILL_BIN:-}" ]; then
    if [ -x "$PGDRILL_BIN" ] && [ ! -d "$PGDRILL_BIN" ]; then
      pgdrill=("$PGDRILL_BIN")
    else
      read -r -a pgdrill <<<"$PGDRILL_BIN"
    fi
  else
    pgdrill=(npx --no-install pgdrill)
  fi
}
