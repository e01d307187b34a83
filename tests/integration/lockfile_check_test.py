"""Stale or hand-edited lockfiles stop ./pants before anything resolves, with the command to run.

Each case is what a user does by hand in a copy of the repository. Pants does not check
requirements-style lockfiles itself: before ./pants checked them, these built with rc 0 (an
unlocked requirement floated into the PyPI layer) or failed late inside pip.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from integration.repo_copy import RepoCopy

LOCK = "./pants run 3rdparty/python/lock.py"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> RepoCopy:
    return RepoCopy(tmp_path_factory.mktemp("lockfile-check") / "repo")


def edited(repo: RepoCopy, relative: str, old: str, new: str) -> str:
    """Applies an edit; returns the original text, to restore."""
    path = repo.path(relative)
    text = path.read_text()
    assert old in text, f"{relative} no longer contains {old!r}"
    path.write_text(text.replace(old, new))
    return text


def stopped_at_once(repo: RepoCopy, *args: str) -> str:
    start = time.monotonic()
    run = repo.pants(*args)
    elapsed = time.monotonic() - start
    assert run.returncode == 1, run.output[-3000:]
    assert "the lockfiles are not current" in run.stderr
    assert "Nothing was built or resolved." in run.stderr
    # Before Pants starts: no scheduler, no resolve. (A build takes minutes.)
    assert "Scheduler initialized" not in run.output and elapsed < 60
    return run.stderr


def test_an_unlocked_requirement_never_floats_into_a_layer(repo: RepoCopy) -> None:
    original = edited(repo, "3rdparty/python/pypi-requirements.txt", "watchtower\n", "watchtower\ntenacity\n")
    try:
        error = stopped_at_once(repo, "package", "::")
    finally:
        repo.path("3rdparty/python/pypi-requirements.txt").write_text(original)

    assert "3rdparty/python/default.lock was not locked from" in error
    assert "(not locked: tenacity)" in error
    assert f"Run `{LOCK} -- --resolve python-default`." in error


def test_a_framework_tag_bump_without_a_relock_names_the_lock_command(repo: RepoCopy) -> None:
    relative = "3rdparty/python/framework-requirements.txt"
    original = edited(repo, relative, "@v0.1.5", "@v0.1.6")
    try:
        error = stopped_at_once(repo, "package", "3rdparty/python:framework")
    finally:
        repo.path(relative).write_text(original)

    assert f"`{LOCK} -- --framework-tag v0.1.6`" in error
    assert "ResolutionImpossible" not in error and "loosen the range" not in error


def test_turning_the_runtime_knob_alone_names_both_places(repo: RepoCopy) -> None:
    original = edited(repo, "BUILD", 'runtime="python3.11"', 'runtime="python3.12"')
    try:
        error = stopped_at_once(repo, "test", "::")
    finally:
        repo.path("BUILD").write_text(original)

    assert "BUILD sets runtime='python3.12'" in error
    assert "pants.toml [python].resolves_to_interpreter_constraints.python-default" in error
    assert "default.lock was locked for Lambda python3.11 x86_64" in error


def test_a_hand_edited_pin_gets_the_lock_commands_message_not_pips(repo: RepoCopy) -> None:
    relative = "3rdparty/python/default.lock"
    pinned = re.search(r"^numpy==\S+$", repo.path(relative).read_text(), re.MULTILINE)
    assert pinned, "default.lock pins no numpy"
    original = edited(repo, relative, pinned.group(0), "numpy==2.3.0")
    try:
        error = stopped_at_once(repo, "package", "3rdparty/python:pypi")
        assert "3rdparty/python/default.lock was edited by hand" in error
        keep = f"{LOCK} -- --resolve python-default --keep-pins"
        assert f"`{keep}`" in error

        # The command it names checks the edit against the Lambda platform, as the lock command
        # checks requirements, and leaves the lockfile as it was.
        run = repo.pants(*keep.split()[1:])
        assert run.returncode != 0
        assert (
            "3rdparty/python/default.lock pins numpy==2.3.0, which has no wheel for Lambda "
            "python3.11 x86_64 (cp311, glibc 2.26)."
        ) in run.stderr, run.output[-3000:]
        assert "metadata-generation-failed" not in run.output
        assert "numpy==2.3.0" in repo.path(relative).read_text()
    finally:
        repo.path(relative).write_text(original)


def test_read_only_goals_and_the_lock_command_are_not_stopped(repo: RepoCopy) -> None:
    original = edited(repo, "3rdparty/python/lint-requirements.txt", "black\n", "black\nisort\n")
    try:
        run = repo.pants("list", "3rdparty/python:")
        assert run.returncode == 0, run.output[-3000:]
        assert "3rdparty/python:pypi" in run.stdout
    finally:
        Path(repo.path("3rdparty/python/lint-requirements.txt")).write_text(original)


def test_pants_own_hint_leads_to_the_lock_command(repo: RepoCopy) -> None:
    # Pants' messages about lockfiles say `pants generate-lockfiles --resolve=NAME`; ./pants runs
    # the lock command for it (here with a resolve that does not exist, to stop before locking).
    run = repo.pants("generate-lockfiles", "--resolve=no-such-resolve")

    assert run.returncode != 0
    assert "running it" in run.stderr and "3rdparty/python/lock.py" in run.stderr
    assert "argument --resolve: invalid choice: 'no-such-resolve'" in run.stderr, run.output[-3000:]
