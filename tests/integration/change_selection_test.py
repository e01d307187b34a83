"""What CI selects for a change to code or configuration, on a scratch git history of this
repository (see scratch_history.py). Lockfile changes: lockfile_selection_test.py."""

from __future__ import annotations

import pytest
from integration.repo_copy import RepoCopy
from integration.scratch_history import (
    API,
    EVERY_ARTIFACT,
    THUMBNAIL,
    append_line,
    commit_change,
    scratch_history,
    selected,
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> RepoCopy:
    return scratch_history(tmp_path_factory.mktemp("selection") / "repo")


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
