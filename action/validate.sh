#!/usr/bin/env bash
# Checks every scenario with `pgdrill validate` before the action pulls an image or starts a drill,
# so a typo fails the job in seconds. Reads the inputs run-drills.sh reads (INPUT_SCENARIOS,
# INPUT_GATES, PGDRILL_BIN; see there) and passes them as run-drills.sh will pass them to `run`;
# stdin is /dev/null for both, so a manual step is refused alike.
#
# Exit 0 when every scenario is valid (the plans are in the log); otherwise 2, whatever fail-on
# says, with an error annotation per problem, verdict=errored in GITHUB_OUTPUT and the problems in
# GITHUB_STEP_SUMMARY.
set -euo pipefail

# shellcheck source=action/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

parse_scenarios
parse_gates
pgdrill_command

fail() {
  local message=$1
  say "$message"
  annotate error "pgdrill: invalid scenario" "$message"
  [ -n "${GITHUB_OUTPUT:-}" ] && printf 'verdict=errored\n' >>"$GITHUB_OUTPUT"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    printf '## pgdrill drills: errored before any drill started\n\n```\n%s\n```\n\n' "$message" >>"$GITHUB_STEP_SUMMARY"
  fi
  exit 2
}

[ "${#scenarios[@]}" -gt 0 ] || fail "$NO_SCENARIO"

problems=$(mktemp "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/pgdrill-validate.XXXXXX")
trap 'rm -f "$problems"' EXIT
in_actions && printf '::group::pgdrill validate\n'
code=0
"${pgdrill[@]}" validate "${scenarios[@]}" "${gate_args[@]}" </dev/null 2>"$problems" || code=$?
in_actions && printf '::endgroup::\n'
cat "$problems" >&2
if [ "$code" -ne 0 ]; then
  # Without the blank lines pgdrill puts between scenarios, which would start the annotation empty.
  message=$(grep -v '^$' "$problems" || true)
  fail "${message:-pgdrill validate exited $code}"
fi
say "${#scenarios[@]} scenario(s) valid"
