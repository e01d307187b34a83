"""What CI packages for a change, checked on a scratch git history of this repository.

Each change is a commit on top of the same base; the selection is made by
build-support/ci-changed.sh, the script the workflows call, with HEAD~1 as the base.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from integration.repo_copy import RepoCopy
from lambda_deploy.aws import make_clients
from lambda_deploy.conftest import create_infrastructure
from lambda_deploy.emulator import LOCAL_CREDENTIALS, LocalEmulator

PYPI = "3rdparty/python:pypi"
FRAMEWORK = "3rdparty/python:framework"
API = "src/python/api_handler:lambda"
THUMBNAIL = "src/python/thumbnail:lambda"
EVERY_ARTIFACT = {PYPI, FRAMEWORK, API, THUMBNAIL}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> RepoCopy:
    repo = RepoCopy(tmp_path_factory.mktemp("selection") / "repo")
    repo.git("init", "--quiet", "--initial-branch=main", ".")
    repo.git("add", "--all")
    repo.git("commit", "--quiet", "-m", "base")
    return repo


def append_line(path: Path) -> None:
    path.write_text(path.read_text() + "\n# a one-line change\n")


def commit_change(repo: RepoCopy, branch: str, edit: Callable[[RepoCopy], None]) -> None:
    repo.git("checkout", "--quiet", "-B", branch, "main")
    edit(repo)
    repo.git("add", "--all")
    repo.git("commit", "--quiet", "-m", branch)


def selected(repo: RepoCopy, what: str = "list-packages") -> set[str]:
    """The Lambda artifacts `build-support/ci-changed.sh package HEAD~1` would build, or with
    `list-tests`, the tests `build-support/ci-changed.sh test HEAD~1` would run."""
    run = repo.run("build-support/ci-changed.sh", what, "HEAD~1").check()
    return set(run.stdout.split())


def test_an_edit_to_one_function_selects_only_its_zip(repo: RepoCopy) -> None:
    commit_change(repo, "one-function", lambda r: append_line(r.path("src/python/thumbnail/handler.py")))

    assert selected(repo) == {THUMBNAIL}


def test_an_edit_to_one_function_runs_its_tests_but_not_the_integration_tests(repo: RepoCopy) -> None:
    # The integration tests get the repository from a target that owns no file (the root BUILD's
    # repository_snapshot), so only what they import or name as a dependency selects them.
    commit_change(repo, "one-function", lambda r: append_line(r.path("src/python/thumbnail/handler.py")))

    tests = selected(repo, "list-tests")

    assert {t for t in tests if t.startswith("src/python/thumbnail/")}, tests
    assert not {t for t in tests if t.startswith(("tests/integration/", "src/python/api_handler/"))}, tests


def test_an_edit_to_shared_code_selects_both_function_zips(repo: RepoCopy) -> None:
    commit_change(repo, "shared-code", lambda r: append_line(r.path("src/python/lambda_common/responses.py")))

    assert selected(repo) == {API, THUMBNAIL}


def test_an_edit_to_the_deploy_tool_selects_no_artifact(repo: RepoCopy) -> None:
    commit_change(repo, "deploy-only", lambda r: append_line(r.path("deploy/lambda_deploy/plan.py")))

    assert selected(repo) == set()


def test_a_change_to_pants_configuration_selects_everything(repo: RepoCopy) -> None:
    commit_change(repo, "pants-toml", lambda r: append_line(r.path("pants.toml")))

    run = repo.run("build-support/ci-changed.sh", "list-packages", "HEAD~1").check()

    assert set(run.stdout.split()) == EVERY_ARTIFACT
    assert "pants.toml changed; running list-packages on everything" in run.stderr


@pytest.fixture(scope="module")
def framework_bump(repo: RepoCopy) -> set[str]:
    """Moves the framework to the sample's next tag with the lock command; returns the selection."""

    def bump(r: RepoCopy) -> None:
        r.pants("run", "3rdparty/python/lock.py", "--", "--framework-tag", "v0.1.6").check()

    commit_change(repo, "framework-bump", bump)
    return selected(repo)


def test_a_framework_tag_change_packages_the_framework_layer_only(framework_bump: set[str]) -> None:
    # The tag is in framework-requirements.txt and in default.lock. Pants alone would mark every
    # requirement of the resolve as changed, and so both layers and both functions; selected by
    # the lines that changed (3rdparty/python/changed_pins.py), only the framework layer holds
    # the framework. The function zips hold code only.
    assert framework_bump == {FRAMEWORK}


def test_a_framework_tag_change_tests_what_depends_on_the_framework(
    repo: RepoCopy, framework_bump: set[str]
) -> None:
    repo.git("checkout", "--quiet", "framework-bump")
    tests = selected(repo, "list-tests")

    # Both functions import the framework: their unit tests and their Lambda-sandbox checks run,
    # and the tests that build from the lockfiles in a copy of the repository.
    assert {API, THUMBNAIL} <= tests
    assert {t for t in tests if t.startswith("src/python/api_handler/")}, tests
    assert {t for t in tests if t.startswith("tests/integration/")}, tests
    # The deploy tool and the lock command's own tests do not depend on the framework.
    assert not {t for t in tests if t.startswith(("deploy/", "3rdparty/python/"))}, tests


@pytest.fixture(scope="module")
def numpy_bump(repo: RepoCopy) -> tuple[set[str], set[str]]:
    """Holds numpy one release back as a user would: by hand in the lockfile, then the lock
    command with --keep-pins, which checks the pin for Lambda and rewrites the lockfile."""

    def bump(r: RepoCopy) -> None:
        lock = r.path("3rdparty/python/default.lock")
        lock.write_text(lock.read_text().replace("\nnumpy==2.2.6\n", "\nnumpy==2.2.5\n"))
        r.pants("run", "3rdparty/python/lock.py", "--", "--resolve", "python-default", "--keep-pins").check()

    commit_change(repo, "numpy-bump", bump)
    changed = repo.git("diff", "--name-only", "HEAD~1").split()
    assert changed == ["3rdparty/python/default.lock"], changed
    return selected(repo), selected(repo, "list-tests")


def test_a_numpy_bump_packages_the_pypi_layer_and_tests_the_thumbnail_function(
    numpy_bump: tuple[set[str], set[str]],
) -> None:
    packages, tests = numpy_bump

    assert packages == {PYPI}
    assert THUMBNAIL in tests and API not in tests
    assert {t for t in tests if t.startswith("src/python/thumbnail/")}, tests
    assert not {t for t in tests if t.startswith("src/python/api_handler/")}, tests


def test_after_a_framework_bump_the_deploy_plan_leaves_the_pypi_layer_alone(
    repo: RepoCopy, framework_bump: set[str]
) -> None:
    with LocalEmulator() as emulator:
        aws = make_clients("eu-west-1", emulator.endpoint_url, LOCAL_CREDENTIALS)
        create_infrastructure(aws, "lambda-monorepo-artifacts", ("api-handler", "thumbnail"))
        deploy = ("run", "deploy", "--")
        target = ("--endpoint-url", emulator.endpoint_url, "--json")

        repo.git("checkout", "--quiet", "main")
        repo.pants("package", *sorted(EVERY_ARTIFACT)).check()
        repo.pants(*deploy, "apply", *target).check()
        repo.git("checkout", "--quiet", "framework-bump")
        repo.pants("package", *sorted(framework_bump)).check()
        plan = json.loads(repo.pants(*deploy, "plan", *target).check().stdout)

    assert {layer["name"]: layer["action"] for layer in plan["layers"]} == {
        "monorepo-pypi": "unchanged",
        "monorepo-framework": "publish",
    }
    assert {f["name"]: (f["code"], f["layers"]) for f in plan["functions"]} == {
        "api-handler": ("unchanged", "update"),
        "thumbnail": ("unchanged", "update"),
    }
