#!/usr/bin/env bash
# Runs a Pants goal on what changed since a git ref. The workflows in .github/workflows call
# this, and tests/integration/change_selection_test.py checks what it selects, so the two
# cannot drift apart.
#
#   build-support/ci-changed.sh lint|test|package|list-packages|list-tests BASE
#
# Pants works on the targets changed since the merge base of BASE and HEAD, plus everything that
# depends on them, transitively. It works on everything (::) instead when BASE is empty or not
# a known commit (a first push, a force push), or when something every target depends on
# changed: Pants' configuration (including the remote-cache layer and pyproject.toml, which
# configures black and ruff), the launcher and what it sources or runs (the lockfile check), the
# plugins, the root BUILD's defaults, or the framework sample the launcher serves. No target owns
# these files, so --changed-since alone would select nothing for them.
#
# `package` builds only the Lambda artifacts; `list-packages` prints the targets it would build,
# and `list-tests` the test targets `test` would run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GLOBAL_INPUTS=(pants pants.toml pants.ci.toml pants.remote.toml pyproject.toml BUILD build-support pants-plugins 3rdparty/framework-sample 3rdparty/python/lockfiles.py)
LAMBDA_ARTIFACTS=(--filter-target-type=python_aws_lambda_function,python_aws_lambda_layer)

usage() {
  echo "usage: $0 lint|test|package|list-packages|list-tests BASE" >&2
  exit 2
}
[[ $# -eq 2 ]] || usage
goal="$1" base="$2"

case "$goal" in
  lint | test) goal_args=("$goal") ;;
  package) goal_args=("${LAMBDA_ARTIFACTS[@]}" package) ;;
  list-packages) goal_args=("${LAMBDA_ARTIFACTS[@]}" list) ;;
  # python_test, not python_tests: --changed-since selects the file-level targets they generate.
  list-tests) goal_args=(--filter-target-type=python_test list) ;;
  *) usage ;;
esac

everything() {
  echo "ci-changed: $1; running $goal on everything." >&2
  exec ./pants "${goal_args[@]}" ::
}

[[ -n "$base" ]] || everything "no base commit given"
git rev-parse --verify --quiet "$base^{commit}" >/dev/null || everything "base $base is not a known commit"
since="$(git merge-base "$base" HEAD)" || everything "$base and HEAD share no history"
changed_globally="$(git diff --name-only "$since" -- "${GLOBAL_INPUTS[@]}")"
[[ -z "$changed_globally" ]] || everything "$(echo "$changed_globally" | head -n 1) changed"

echo "ci-changed: running $goal on what changed since ${since:0:12} ($base), and its dependents." >&2
exec ./pants --changed-since="$since" --changed-dependents=transitive "${goal_args[@]}"
