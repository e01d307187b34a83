"""launcher_util.py pip-repositories: pip's indexes and find-links, as ./pants hands them to Pants."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LAUNCHER_UTIL = Path(__file__).with_name("launcher_util.py")


def pip_repositories(tmp_path: Path, config: str | None, **pip_env: str) -> tuple[list, list] | None:
    """What ./pants would export, with `config` as the last pip configuration file read (or no
    configuration file at all) and only the given PIP_* variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    env.update(HOME=str(tmp_path), XDG_CONFIG_DIRS=str(tmp_path / "etc"), XDG_CONFIG_HOME=str(tmp_path))
    if config is None:
        env["PIP_CONFIG_FILE"] = os.devnull
    else:
        (tmp_path / "pip.conf").write_text(config)
        env["PIP_CONFIG_FILE"] = str(tmp_path / "pip.conf")
    env.update(pip_env)
    output = subprocess.run(
        [sys.executable, "-I", "-S", str(LAUNCHER_UTIL), "pip-repositories"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if not output.strip():
        return None
    indexes, find_links = output.splitlines()
    return json.loads(indexes), json.loads(find_links)


# Every key set, so that a machine's own /etc/pip.conf cannot change the outcome.
MIRROR = """\
[global]
index-url = https://mirror.invalid/simple/
extra-index-url = file:///srv/one/simple
    file:///srv/two/simple
find-links = wheels
no-index = false
"""


def test_pip_configuration_becomes_pants_indexes_and_find_links(tmp_path: Path) -> None:
    assert pip_repositories(tmp_path, MIRROR) == (
        ["https://mirror.invalid/simple/", "file:///srv/one/simple", "file:///srv/two/simple"],
        # Relative to where ./pants runs, as pip reads it; Pants gets an absolute path.
        [str(tmp_path / "wheels")],
    )


def test_download_section_and_environment_win_as_they_do_for_pip(tmp_path: Path) -> None:
    config = MIRROR + "[download]\nfind-links = /srv/download-wheels\n"
    assert pip_repositories(tmp_path, config, PIP_EXTRA_INDEX_URL="https://extra.invalid/simple/") == (
        ["https://mirror.invalid/simple/", "https://extra.invalid/simple/"],
        ["/srv/download-wheels"],
    )


def test_no_index_leaves_only_find_links(tmp_path: Path) -> None:
    assert pip_repositories(tmp_path, MIRROR.replace("no-index = false", "no-index = true")) == (
        [],
        [str(tmp_path / "wheels")],
    )


def test_without_pip_configuration_pants_keeps_its_defaults(tmp_path: Path) -> None:
    assert pip_repositories(tmp_path, None) is None
    assert pip_repositories(tmp_path, None, PIP_FIND_LINKS="/srv/wheels") == (
        ["https://pypi.org/simple/"],
        ["/srv/wheels"],
    )
