"""What every measurement uses: logging, timing a command (wall and CPU), copying the repository."""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

OUT = Path("dist/bench")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds
    cpu: float  # seconds of user + system time in the command and everything it waited for


def run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Timing:
    """Runs a command; returns its wall and CPU time. Fails loudly, with its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(
            f"[bench] {' '.join(argv)} failed in {cwd}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(elapsed, cpu)


def cpu_seconds() -> float:
    """User + system time of this process and every child it waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(action) -> Timing:
    """Wall and CPU time of `action()`, run in this process (and what it waits for)."""
    before, start = cpu_seconds(), time.perf_counter()
    action()
    return Timing(time.perf_counter() - start, cpu_seconds() - before)


def copy_repository(dest: Path) -> Path:
    """The working tree as git sees it (tracked and untracked, not ignored), in a fresh folder."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    shutil.rmtree(dest, ignore_errors=True)
    for name in filter(None, listed.split("\0")):
        if Path(name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(name, dest / name)
    return dest


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unzipped(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        return sum(info.file_size for info in zf.infolist())
