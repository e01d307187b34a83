"""What CI selects when a lockfile changes: by the lines that changed, on a scratch git history
of this repository (see scratch_history.py)."""

from __future__ import annotations

import json

import pytest
from integration.repo_copy import RepoCopy
from integration.scratch_history import (
    API,
    EVERY_ARTIFACT,
    FRAMEWORK,
    PYPI,
    THUMBNAIL,
    commit_change,
    scratch_history,
    selected,
)
from lambda_deploy.aws import make_clients
from lambda_deploy.conftest import built_platform, create_infrastructure
from lambda_deploy.emulator import LOCAL_CREDENTIALS, LocalEmulator


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> RepoCopy:
    return scratch_history(tmp_path_factory.mktemp("lock-selection") / "repo")


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
    # the lines that changed (build-support/ci/changed_pins.py), only the framework layer holds
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
    # The lock command's own tests do not depend on the framework. (The deploy tool's do: they
    # deploy the layers.)
    assert not {t for t in tests if t.startswith("3rdparty/python/")}, tests


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
    # Thumbnail imports numpy: its unit tests run. Every function that runs with the PyPI layer
    # gets its Lambda-sandbox check (imports and the size budget, with the new layer); api_handler
    # does not import numpy, so its unit tests do not run.
    assert {THUMBNAIL, API} <= tests
    assert {t for t in tests if t.startswith("src/python/thumbnail/")}, tests
    assert not {t for t in tests if t.startswith("src/python/api_handler/")}, tests


def test_after_a_framework_bump_the_deploy_plan_leaves_the_pypi_layer_alone(
    repo: RepoCopy, framework_bump: set[str]
) -> None:
    with LocalEmulator() as emulator:
        aws = make_clients("eu-west-1", emulator.endpoint_url, LOCAL_CREDENTIALS)
        deploy = ("run", "deploy", "--")
        target = ("--endpoint-url", emulator.endpoint_url, "--json")

        repo.git("checkout", "--quiet", "main")
        repo.pants("package", *sorted(EVERY_ARTIFACT)).check()
        platform = built_platform(sorted(repo.path("dist").glob("*/*.metadata.json")))
        create_infrastructure(aws, "lambda-monorepo-artifacts", ("api-handler", "thumbnail"), platform)
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
