"""A copy of this repository in a temporary folder, and `./pants` run in it as a person would.

The test sandbox holds the repository under repository/ (the root BUILD's `repository` target),
without the team's functions: the copy gets the sample functions of sample_functions/ in their
place, so that the tests neither rerun after every edit to a function nor depend on which
functions a team has. The copy shares the machine's Pants bootstrap and caches, but has its own
.pants.d and dist/.

./pants runs in a copy with pantsd, as on a developer's machine: without it, every run spends
10-15 s of CPU building Pants' rule graph before it does anything, and the integration tests run
./pants dozens of times. The copy's pantsd is stopped when the test process ends, however it
ends (a watchdog process stops it if the test process is killed, e.g. by a test timeout).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SANDBOX_COPY = Path("repository")
# Where the functions live (README: "Add a function"), which the snapshot leaves out (root BUILD),
# and the sample functions a copy gets there instead.
FUNCTIONS = "src/python"
SAMPLE_FUNCTIONS = "tests/integration/sample_functions"
DEPLOY_CONFIG = "deploy/deploy.toml"
# A table of deploy.toml that configures one function, e.g. [functions."src/python/x:lambda"]
# (or one of its sub-tables), up to the next table.
_FUNCTION_TABLE = re.compile(r'^\[functions\."(?P<address>[^"]+)"[^\n]*\n(?:(?!\[)[^\n]*\n?)*', re.MULTILINE)

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


# Stops the copy's pantsd once the process that made the copy is gone. If that process was
# killed while a ./pants it ran was starting pantsd (Pants cancels a running test when its inputs
# change), pantsd writes its pid file only once it is up, seconds later: so the watchdog keeps
# looking for a while. A pid is signalled only while it is still a pantsd (pids are reused).
_WATCHDOG = """
import os, pathlib, signal, sys, time
parent, root = int(sys.argv[1]), pathlib.Path(sys.argv[2])
while os.getppid() == parent:
    time.sleep(1)

def is_pantsd(pid):
    try:
        return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"pantsd")
    except FileNotFoundError:
        return not pathlib.Path("/proc/self").exists()  # no /proc (macOS): trust the pid file

deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    for pid_file in root.glob(".pids/*/pantsd/pid"):
        try:
            pid = int(pid_file.read_text())
            if is_pantsd(pid):
                os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError):
            pass
    time.sleep(2)
"""


def _drop_tables_of_missing_functions(config: Path, root: Path) -> None:
    """deploy.toml may configure the team's own functions, which the copy does not have, and
    deploy refuses a table for a function it does not know: keep the tables of functions whose
    folder the copy has (the samples', and any outside src/python)."""
    text = config.read_text()
    kept = _FUNCTION_TABLE.sub(
        lambda table: table.group(0) if (root / table["address"].split(":")[0]).is_dir() else "", text
    )
    if kept != text:
        config.write_text(kept)


class RepoCopy:
    def __init__(self, root: Path) -> None:
        shutil.copytree(SANDBOX_COPY, root, symlinks=True)
        # Git commands in the copy must never reach the real repository (a worktree's .git file
        # would point them at it): the snapshot leaves .git out.
        assert not (root / ".git").exists(), "the repository copy has a .git: see //:repository"
        assert not (root / FUNCTIONS).exists(), f"the repository copy has {FUNCTIONS}: see //:repository"
        shutil.copytree(root / SAMPLE_FUNCTIONS, root / FUNCTIONS)
        _drop_tables_of_missing_functions(root / DEPLOY_CONFIG, root)
        self.root = root
        atexit.register(self.stop_pantsd)
        subprocess.Popen(
            [sys.executable, "-I", "-c", _WATCHDOG, str(os.getpid()), str(root)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def path(self, relative: str) -> Path:
        return self.root / relative

    def pants(self, *args: str, env: dict[str, str] | None = None, timeout: float = 900) -> PantsRun:
        return self.run("./pants", *args, env=env, timeout=timeout)

    def environment(self) -> dict[str, str]:
        """What ./pants gets: a few variables from the test's environment, and pantsd (a run
        may turn it off with PANTS_PANTSD=false in `env`)."""
        environment = {key: os.environ[key] for key in PASSED_THROUGH if key in os.environ}
        environment["PANTS_PANTSD"] = "true"
        return environment

    def pantsd_pids(self) -> list[int]:
        # Pants keeps pantsd's pid in .pids/<host fingerprint>/pantsd/pid ([GLOBAL] pants_subprocessdir).
        return [int(path.read_text()) for path in self.root.glob(".pids/*/pantsd/pid")]

    def stop_pantsd(self) -> None:
        for pid in self.pantsd_pids():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
                time.sleep(0.2)

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
