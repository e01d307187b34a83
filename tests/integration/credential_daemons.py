"""The `git credential-cache` daemons ./pants starts for GH_TOKEN, and what they leave behind."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


def running(folder: Path) -> list[str]:
    """The daemons serving a socket under `folder` (their command lines)."""
    listing = subprocess.run(["ps", "-A", "-o", "args="], capture_output=True, text=True, check=True).stdout
    return [
        line for line in listing.splitlines() if "credential-cache--daemon" in line and str(folder) in line
    ]


def left_behind(folder: Path, timeout: float = 5) -> list[str]:
    """Sockets and daemons under `folder` still there `timeout` seconds after a run ended (the
    launcher's watcher looks once a second)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [str(p) for p in folder.glob("*")] + running(folder) if folder.exists() else []
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def stop_all(folder: Path) -> None:
    """Stops what a failed run left, so that it does not outlive the test."""
    for path in folder.glob("*") if folder.is_dir() else []:
        subprocess.run(["git", "credential-cache", "--socket", str(path), "exit"], capture_output=True)
