"""A copy of this repository in a temporary folder, and `./pants` run in it as a person would.

The test sandbox holds the repository under repository/ (the root BUILD's `repository` target).
The copy shares the machine's Pants bootstrap and caches, but has its own .pants.d and dist/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SANDBOX_COPY = Path("repository")

# What ./pants needs from the test's environment; nothing else leaks in.
PASSED_THROUGH = ("PATH", "HOME", "PYENV_ROOT", "LAMBDA_BOOTSTRAP_CACHE", "LANG", "XDG_RUNTIME_DIR")


@dataclass(frozen=True)
class PantsRun:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def check(self) -> PantsRun:
        assert self.returncode == 0, f"{' '.join(self.argv)} failed:\n{self.output[-6000:]}"
        return self


class RepoCopy:
    def __init__(self, root: Path) -> None:
        shutil.copytree(SANDBOX_COPY, root, symlinks=True)
        # Git commands in the copy must never reach the real repository (a worktree's .git file
        # would point them at it): the snapshot leaves .git out.
        assert not (root / ".git").exists(), "the repository copy has a .git: see //:repository"
        self.root = root

    def path(self, relative: str) -> Path:
        return self.root / relative

    def pants(self, *args: str, env: dict[str, str] | None = None, timeout: float = 900) -> PantsRun:
        return self.run("./pants", *args, env=env, timeout=timeout)

    def environment(self) -> dict[str, str]:
        """What ./pants gets: a few variables from the test's environment, and no daemon, so
        that each run stands alone and nothing outlives the test."""
        environment = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
        environment["PANTS_PANTSD"] = "false"
        return environment

    def run(self, *argv: str, env: dict[str, str] | None = None, timeout: float = 900) -> PantsRun:
        """Runs a command in the copy, e.g. ./pants or a build-support script that calls it."""
        environment = {**self.environment(), **(env or {})}
        process = subprocess.run(
            list(argv), cwd=self.root, env=environment, capture_output=True, text=True, timeout=timeout
        )
        return PantsRun(list(argv), process.returncode, process.stdout, process.stderr)

    def git(self, *args: str) -> str:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_AUTHOR_NAME": "test",
            "GIT_AUTHOR_EMAIL": "test@invalid",
            "GIT_COMMITTER_NAME": "test",
            "GIT_COMMITTER_EMAIL": "test@invalid",
        }
        return subprocess.run(
            ["git", *args], cwd=self.root, env=env, check=True, capture_output=True, text=True
        ).stdout
