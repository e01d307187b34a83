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
# When a lockfile or requirements file changed, the selection goes by the lines that changed
# (build-support/ci/changed_pins.py): a framework tag bump packages the framework layer only.
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
  # python_aws_lambda_function: every function is also a test (its Lambda-sandbox check).
  list-tests) goal_args=(--filter-target-type=python_test,python_aws_lambda_function list) ;;
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

# A lockfile or requirements file changed. Pants would mark every dependent of the resolve (or
# of the file) as changed; select by the lines that changed instead: what depends on the
# requirements whose pins changed, beside what depends on the other changed files.
if [[ "$goal" != lint && -n "$(git diff --name-only "$since" -- '*.lock' '*requirements*.txt')" ]]; then
  case "$goal" in package | list-packages) kind=package ;; *) kind=test ;; esac
  peek="$(mktemp)"
  trap 'rm -f "$peek"' EXIT
  ./pants peek :: >"$peek"
  status=0
  # lib/: the one package-name normaliser (lambda_artifacts.artifact_zip), standard library only.
  selection="$(PYTHONPATH=lib python3 build-support/ci/changed_pins.py --since "$since" --peek "$peek" --goal "$kind")" || status=$?
  [[ $status -ne 3 ]] || everything "a change to every pin of a resolve"
  [[ $status -eq 0 ]] || exit "$status"
  selected=()
  while IFS= read -r address; do [[ -z "$address" ]] || selected+=("$address"); done <<<"$selection"
  if [[ ${#selected[@]} -eq 0 ]]; then
    echo "ci-changed: the pins that changed since ${since:0:12} ($base) affect nothing to $goal." >&2
    exit 0
  fi
  echo "ci-changed: running $goal on what the changed pins and files since ${since:0:12} ($base) affect." >&2
  exec ./pants "${goal_args[@]}" "${selected[@]}"
fi

echo "ci-changed: running $goal on what changed since ${since:0:12} ($base), and its dependents." >&2
exec ./pants --changed-since="$since" --changed-dependents=transitive "${goal_args[@]}"
