"""Finding a local CPython of a given minor version outside Pants: for the lock command (which
locks for the runtime's CPython) and `invoke` (which runs a handler on it).

The plugin finds the same interpreter inside Pants, on `[python-bootstrap].search_path`
(pants-plugins/lambda_targets/interpreters.py); this looks where that path looks by default: PATH,
then pyenv's versions, newest patch release first.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path


def pyenv_versions() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"


def _patch_order(path: Path) -> list[int]:
    """`.../versions/3.11.10/bin/python3.11` sorts after `.../3.11.7/...`, as numbers do."""
    return [int(number) for number in re.findall(r"\d+", path.parent.parent.name)]


def find_cpython(version: tuple[int, int]) -> str | None:
    """A working CPython `version`: this process's own if it is one, else `pythonX.Y` on PATH,
    else pyenv's newest; each tried by running it (a pyenv shim fails unless selected)."""
    if sys.version_info[:2] == version and sys.implementation.name == "cpython":
        return sys.executable
    dotted = "{}.{}".format(*version)
    candidates = [shutil.which(f"python{dotted}")]
    if pyenv_versions().is_dir():
        installed = sorted(
            pyenv_versions().glob(f"{dotted}.*/bin/python{dotted}"), key=_patch_order, reverse=True
        )
        candidates += [str(path) for path in installed]
    check = (
        "import sys; "
        f"sys.exit(not (sys.implementation.name == 'cpython' and sys.version_info[:2] == {tuple(version)}))"
    )
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", check], capture_output=True).returncode == 0:
            return candidate
    return None


def where_searched(version: tuple[int, int]) -> str:
    """For a refusal: where find_cpython looked, and how to get one."""
    dotted = "{}.{}".format(*version)
    return f"none was found on PATH or under {pyenv_versions()}. Install it (e.g. `pyenv install {dotted}`)"
