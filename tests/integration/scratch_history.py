"""A scratch git history of this repository, and what CI selects for a commit on it.

Each change is a commit on top of the same base; the selection is made by
build-support/ci-changed.sh, the script the workflows call, with HEAD~1 as the base.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from integration.repo_copy import RepoCopy

PYPI = "3rdparty/python:pypi"
FRAMEWORK = "3rdparty/python:framework"
API = "src/python/api_handler:lambda"
THUMBNAIL = "src/python/thumbnail:lambda"
EVERY_ARTIFACT = {PYPI, FRAMEWORK, API, THUMBNAIL}


def scratch_history(root: Path) -> RepoCopy:
    repo = RepoCopy(root)
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
