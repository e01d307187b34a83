"""What every uv run here gets, whoever runs it: the lock command (3rdparty/python/lock.py, which
resolves) and the artifact builds (uv.py, which install). They must agree on where packages come
from, or a lockfile could pin what the build cannot fetch."""

from __future__ import annotations

from collections.abc import Sequence

# uv reads no configuration but ours (no uv.toml, no [tool.uv] of a pyproject.toml on the way up
# from the working directory), and never downloads an interpreter: the CPython it builds with is
# one this machine has (pyenv's or PATH's), as for every other tool here.
UV_ENV = {
    "UV_NO_CONFIG": "1",
    "UV_PYTHON_DOWNLOADS": "never",
    # For a github.com git requirement uv first asks GitHub's API which commit the tag is. The
    # framework's URL is rewritten to the sample or a mirror (build-support/framework-source.sh),
    # so the commit must be what git finds there; and where GitHub is unreachable, the question
    # cost 7-9 s of retries per build and lock.
    "UV_NO_GITHUB_FAST_PATH": "1",
}

COMMON_ARGS = (
    "--no-progress",
    # Trust the machine's certificate store, as pip and git do: behind a TLS-inspecting proxy,
    # only it knows the proxy's authority (uv's own bundle would reject PyPI).
    "--system-certs",
)


def index_args(indexes: Sequence[str], find_links: Sequence[str]) -> list[str]:
    """uv's index options from Pants' [python-repos] (which ./pants fills from pip's own
    configuration), read the way pip reads them: every index is searched and the best match wins
    (uv's default would take a package only from the first index that has it)."""
    args = (
        ["--default-index", indexes[0], *(f"--index={url}" for url in indexes[1:])]
        if indexes
        else ["--no-index"]
    )
    if len(indexes) > 1:
        args += ["--index-strategy", "unsafe-best-match"]
    for link in find_links:
        args += ["--find-links", link]
    return args
