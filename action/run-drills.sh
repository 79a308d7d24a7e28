#!/usr/bin/env bash
# Runs pgdrill scenarios one after another for the GitHub Action (action.yml), or anywhere else:
# every input comes from an environment variable, and nothing here needs GitHub.
#
#   INPUT_SCENARIOS       one or more scenarios (shipped names or paths), separated by newlines or
#                         spaces; a line that names an existing file as a whole is one scenario, so a
#                         path with spaces goes on a line of its own. Blank lines and # comments are skipped.
#   INPUT_TRIALS          --trials (default 1)
#   INPUT_TRIAL_STATISTIC --trial-statistic with more than one trial: worst | p95 | median
#   INPUT_GATES           one `metric<value` per line, each passed as --gate
#   INPUT_OUT             directory for the run directories (default pgdrill-reports); each scenario
#                         runs with --out <out>/<name>, name = the scenario's file name without its
#                         extension, characters other than A-Z a-z 0-9 . _ - replaced by "-", and
#                         -2, -3 … appended where that directory is taken
#   INPUT_FAIL_ON         deviated (fail on deviated or errored, the default) | errored | never
#   INPUT_ARTIFACT_NAME   only named in the summary
#   PGDRILL_BIN           how to run pgdrill: an executable's path, or a command line split on
#                         spaces (default: npx --no-install pgdrill)
#   GITHUB_OUTPUT         if set, gets verdict= (worst over the scenarios: pass, deviated, errored)
#                         and results= (the absolute path of the out directory)
#   GITHUB_STEP_SUMMARY   if set, gets a table of scenario, verdict and exit code, then the report
#                         pgdrill wrote for each scenario
#
# A scenario that fails does not stop the others. The exit status follows INPUT_FAIL_ON: 0, or the
# worst scenario's (1 deviated, 2 errored). Inputs that cannot be right (no scenario, trials 0, an
# unknown fail-on) exit 2 whatever fail-on says, before anything runs.
set -euo pipefail

# shellcheck source=action/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# A Markdown table cell: the text in a code span, pipes escaped, backticks made quotes.
cell() {
  local s=${1//|/\\|}
  s=${s//\`/\'}
  printf '`%s`' "$s"
}

out=${INPUT_OUT:-pgdrill-reports}
trials=$(trim "${INPUT_TRIALS:-1}")
statistic=$(trim "${INPUT_TRIAL_STATISTIC:-}")
fail_on=$(trim "${INPUT_FAIL_ON:-deviated}")
artifact=${INPUT_ARTIFACT_NAME:-}

scenarios=()
names=()
codes=()
verdicts=()
worst=pass
started=false
bad_message=""
summary_reports=""

# Writes the outputs and the job summary: on the normal exit, on a bad input, and on an interrupt
# (then the scenarios not run yet are listed as such and the verdict is errored).
finish() {
  local status=$?
  trap - EXIT
  local i results=""
  if [ "${#codes[@]}" -lt "${#scenarios[@]}" ] && [ "$started" = true ]; then worst=errored; fi
  if [ -d "$out" ]; then results=$(cd "$out" && pwd); fi
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
      printf 'verdict=%s\n' "$worst"
      printf 'results<<pgdrill_results_EOF\n%s\npgdrill_results_EOF\n' "${results:-$out}"
    } >>"$GITHUB_OUTPUT"
  fi
  if [ "$started" = false ] && [ -n "$bad_message" ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    printf '## pgdrill drills: errored\n\n%s\n\n' "$bad_message" >>"$GITHUB_STEP_SUMMARY"
  fi
  if [ "$started" = true ]; then
    local table
    table=$(
      printf '## pgdrill drills: %s\n\n' "$worst"
      printf '| scenario | verdict | exit code | run directory |\n| --- | --- | --- | --- |\n'
      for i in "${!scenarios[@]}"; do
        if [ "$i" -lt "${#codes[@]}" ]; then
          printf '| %s | %s | %s | %s |\n' "$(cell "${scenarios[$i]}")" "${verdicts[$i]}" "${codes[$i]}" "$(cell "$out/${names[$i]}")"
        else
          printf '| %s | not run | | |\n' "$(cell "${scenarios[$i]}")"
        fi
      done
      printf '\nfail-on: %s; ' "$fail_on"
      if [ "$status" -eq 0 ]; then printf 'the step passes.'; else printf 'the step fails (exit %s).' "$status"; fi
      [ -n "$artifact" ] && printf ' The run directories are in the artifact `%s`.' "$artifact"
      printf '\n'
    )
    [ -d "$out" ] && printf '%s\n' "$table" >"$out/summary.md"
    if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
      printf '%s\n\n' "$table" >>"$GITHUB_STEP_SUMMARY"
      [ -n "$summary_reports" ] && [ -f "$summary_reports" ] && cat "$summary_reports" >>"$GITHUB_STEP_SUMMARY"
    fi
  fi
  [ -n "$summary_reports" ] && rm -f "$summary_reports"
  exit "$status"
}
trap finish EXIT
# pgdrill gets the same signal, cleans up and exits; then the summary is written with what ran.
trap 'exit 130' INT
trap 'exit 143' TERM

bad_input() {
  bad_message=$*
  say "$*"
  annotate error pgdrill "$*"
  worst=errored
  exit 2
}

parse_scenarios
[ "${#scenarios[@]}" -gt 0 ] || bad_input "$NO_SCENARIO"
parse_gates

[[ "$trials" =~ ^[1-9][0-9]*$ ]] || bad_input "trials: \"$trials\" is not a whole number from 1 up"
case "$statistic" in "" | worst | p95 | median) ;; *) bad_input "trial-statistic: \"$statistic\" is not one of worst, p95, median" ;; esac
case "$fail_on" in deviated | errored | never) ;; *) bad_input "fail-on: \"$fail_on\" is not one of deviated, errored, never" ;; esac
trial_args=()
if [ "$trials" -gt 1 ]; then
  trial_args+=(--trials "$trials")
  [ -n "$statistic" ] && trial_args+=(--trial-statistic "$statistic")
fi

pgdrill_command

# A run directory per scenario, never one that already exists (pgdrill refuses to run into a
# directory holding a run, and two scenarios can share a file name).
mkdir -p "$out"
declare -A taken=()
for s in "${scenarios[@]}"; do
  base=${s%/}
  base=${base##*/}
  case "$base" in *.ts | *.mts | *.js | *.mjs | *.yaml | *.yml | *.json) base=${base%.*} ;; esac
  base=${base//[^A-Za-z0-9._-]/-}
  case "$base" in "" | . | ..) base=scenario ;; esac
  name=$base
  n=1
  while [ -n "${taken[$name]:-}" ] || [ -e "$out/$name" ]; do
    n=$((n + 1))
    [ "$n" -le 1000 ] || bad_input "no free run directory for $s under $out"
    name="$base-$n"
  done
  taken[$name]=1
  names+=("$name")
done

# pgdrill appends each report to GITHUB_STEP_SUMMARY; it goes to a file of ours instead, so the
# summary can start with the table and still carry every report.
child_env=()
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  summary_reports=$(mktemp "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/pgdrill-reports.XXXXXX")
  child_env=(env "GITHUB_STEP_SUMMARY=$summary_reports")
fi

rank() { case "$1" in pass) echo 0 ;; deviated) echo 1 ;; *) echo 2 ;; esac; }
started=true
for i in "${!scenarios[@]}"; do
  s=${scenarios[$i]}
  args=(run "$s" --out "$out/${names[$i]}" "${gate_args[@]}" "${trial_args[@]}")
  in_actions && printf '::group::pgdrill run %s\n' "$(escape "$s")"
  printf '+ pgdrill'
  printf ' %q' "${args[@]}"
  printf '\n'
  code=0
  "${child_env[@]}" "${pgdrill[@]}" "${args[@]}" </dev/null || code=$?
  in_actions && printf '::endgroup::\n'
  case "$code" in 0) verdict=pass ;; 1) verdict=deviated ;; *) verdict=errored ;; esac
  codes+=("$code")
  verdicts+=("$verdict")
  [ "$(rank "$verdict")" -gt "$(rank "$worst")" ] && worst=$verdict
  say "$s: $verdict (exit $code)"
  if in_actions && [ "$verdict" != pass ]; then
    level=error
    [ "$verdict" = deviated ] && [ "$fail_on" != deviated ] && level=warning
    annotate "$level" "pgdrill $verdict" "$s (exit $code); run directory $out/${names[$i]}"
  fi
done

status=0
case "$fail_on:$worst" in
  deviated:deviated) status=1 ;;
  deviated:errored | errored:errored) status=2 ;;
esac
say "verdict $worst over ${#scenarios[@]} scenario(s); fail-on $fail_on: exit $status"
exit "$status"
