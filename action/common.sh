# Sourced by the action's scripts: their log lines, and GitHub's workflow commands (annotations),
# which are printed only inside GitHub Actions and escaped as GitHub expects.

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
