from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lambda_artifacts.cpython import _patch_order, find_cpython


def test_this_cpython_is_found_for_its_own_version() -> None:
    assert find_cpython(sys.version_info[:2]) == sys.executable


def test_another_installed_version_is_found_and_is_that_version() -> None:
    other = (3, 12) if sys.version_info[:2] != (3, 12) else (3, 11)
    found = find_cpython(other)
    assert found is not None  # CPython 3.9 to 3.13 are on every machine here (pyenv)
    version = subprocess.run(
        [found, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    )
    assert version.stdout.strip() == str(other)


def test_a_version_nobody_has_is_none() -> None:
    assert find_cpython((3, 99)) is None


def test_patch_releases_sort_as_numbers() -> None:
    paths = [Path(f"/v/{v}/bin/python3.11") for v in ("3.11.7", "3.11.10", "3.11.9")]
    assert max(paths, key=_patch_order).parent.parent.name == "3.11.10"
