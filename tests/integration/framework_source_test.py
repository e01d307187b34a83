"""The framework fetched from a token-protected git host, the way CI fetches the real one.

A copy of this repository is built with FRAMEWORK_SOURCE pointing at a git server on loopback
that requires a token, serving a throwaway framework repository with two tags.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from integration import credential_daemons
from integration.git_server import GitHttpServer, make_framework_repository
from integration.repo_copy import SANDBOX_COPY, PantsRun, RepoCopy

TOKEN = secrets.token_hex(20)
LAYERS = ("3rdparty/python:pypi", "3rdparty/python:framework")
PYPI_ZIP = "dist/3rdparty.python/pypi.zip"
FRAMEWORK_ZIP = "dist/3rdparty.python/framework.zip"
REQUIREMENTS = "3rdparty/python/framework-requirements.txt"


@pytest.fixture(scope="module")
def git_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHttpServer]:
    root = tmp_path_factory.mktemp("git-host")
    make_framework_repository(
        SANDBOX_COPY / "3rdparty/framework-sample", root / "test_common_framework.git", ["v0.1.5", "v0.1.6"]
    )
    server = GitHttpServer(root, TOKEN)
    yield server
    server.close()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> RepoCopy:
    return RepoCopy(tmp_path_factory.mktemp("copy") / "repo")


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """XDG_RUNTIME_DIR for ./pants: the token's daemons get their sockets in a folder under it."""
    folder = tmp_path_factory.mktemp("run")
    folder.chmod(0o700)
    yield folder
    credential_daemons.stop_all(sockets(folder))


def sockets(runtime_dir: Path) -> Path:
    return runtime_dir / f"pants-lambda-git-credentials-{os.geteuid()}"


def source(git_host: GitHttpServer, runtime_dir: Path, with_token: bool = True) -> dict[str, str]:
    env = {"FRAMEWORK_SOURCE": git_host.url("test_common_framework.git"), "XDG_RUNTIME_DIR": str(runtime_dir)}
    return {**env, "GH_TOKEN": TOKEN} if with_token else env


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def framework_source(repo: RepoCopy) -> dict[str, str]:
    with zipfile.ZipFile(repo.path(FRAMEWORK_ZIP)) as zf:
        return json.loads(zf.read("python/framework-source.json"))


@pytest.fixture(scope="module")
def built(repo: RepoCopy, git_host: GitHttpServer, runtime_dir: Path) -> PantsRun:
    """Both layers, built with the token, keeping every sandbox so they can be searched."""
    return repo.pants(
        "--keep-sandboxes=always", "package", *LAYERS, env=source(git_host, runtime_dir)
    ).check()


def test_without_the_token_the_build_stops_at_once_and_says_why(
    repo: RepoCopy, git_host: GitHttpServer, runtime_dir: Path
) -> None:
    run = repo.pants(
        "package", "3rdparty/python:framework", env=source(git_host, runtime_dir, with_token=False)
    )

    assert run.returncode != 0
    assert f"Cannot read the framework repository {git_host.url('test_common_framework.git')}" in run.stderr
    assert "requires authentication, and GH_TOKEN is not set" in run.stderr
    assert git_host.requests_refused > 0
    assert not repo.path(FRAMEWORK_ZIP).exists()


def test_with_the_token_the_framework_layer_is_built_from_the_mirror(
    repo: RepoCopy, git_host: GitHttpServer, built: PantsRun
) -> None:
    recorded = framework_source(repo)
    assert recorded["source"] == "mirror"
    assert recorded["repository"] == git_host.url("test_common_framework.git")
    assert recorded["tag"] == "v0.1.5"
    assert recorded["commit"] == git_host.commit_of("test_common_framework.git", "v0.1.5")
    with zipfile.ZipFile(repo.path(FRAMEWORK_ZIP)) as zf:
        # A real release: no `+sample` label.
        assert "python/test_common_framework-0.1.5.dist-info/METADATA" in zf.namelist()


def preserved_sandboxes(run: PantsRun) -> list[Path]:
    # Pants logs "Preserving local process execution dir /tmp/pants-sandbox-XXXXXX for ...".
    return sorted({Path(p) for p in re.findall(r"(/\S*?pants-sandbox-[A-Za-z0-9]+)", run.output)})


def files_containing(secret: bytes, roots: list[Path]) -> list[str]:
    """Every file under `roots` whose bytes, or whose zip members' bytes, contain `secret`."""
    found = []
    for root in roots:
        for path in [root] if root.is_file() else root.rglob("*"):
            if not path.is_file() or path.is_symlink():
                continue
            data = path.read_bytes()
            if secret in data:
                found.append(str(path))
            elif zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as zf:
                    found += [f"{path}!{name}" for name in zf.namelist() if secret in zf.read(name)]
    return found


def test_the_token_appears_nowhere(repo: RepoCopy, built: PantsRun, runtime_dir: Path) -> None:
    sandboxes = preserved_sandboxes(built)
    run_scripts = [sandbox / "__run.sh" for sandbox in sandboxes if (sandbox / "__run.sh").exists()]
    # uv keeps its git checkouts (and the wheel it built from one) in its named cache.
    uv_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pants/named_caches/uv"
    places = [
        *repo.path("3rdparty/python").glob("*.lock"),
        repo.path("dist"),
        repo.path(".pants.d"),
        *sandboxes,
        uv_cache,
    ]
    try:
        assert list(uv_cache.glob("git-v*/checkouts/*")), f"uv cloned nothing into {uv_cache}"
        # The search is real: it covers the sandboxes, whose run scripts do carry the git
        # configuration handed to pip (a socket path, not the token).
        assert len(sandboxes) > 5 and run_scripts
        assert any(b"credential.helper" in script.read_bytes() for script in run_scripts)
        assert files_containing(TOKEN.encode(), places) == []
        assert TOKEN not in built.output
        # Nor is it in memory any more: its daemon ended with the run.
        assert credential_daemons.left_behind(sockets(runtime_dir)) == []
    finally:
        for sandbox in sandboxes:
            shutil.rmtree(sandbox, ignore_errors=True)


def test_bumping_the_tag_changes_only_the_framework_layer(
    repo: RepoCopy, git_host: GitHttpServer, runtime_dir: Path, built: PantsRun
) -> None:
    """pantsd outlives each ./pants run (RepoCopy runs it), and the token's daemon does not. The
    git processes pantsd runs for the second run (a new resolve) must find that run's daemon."""
    before = {zip_: sha256(repo.path(zip_)) for zip_ in (PYPI_ZIP, FRAMEWORK_ZIP)}
    lock_before = repo.path("3rdparty/python/default.lock").read_text()
    env = source(git_host, runtime_dir)

    try:
        bump = repo.pants("run", "3rdparty/python/lock.py", "--", "--framework-tag", "v0.1.6", env=env)
        bump.check()
        assert credential_daemons.left_behind(sockets(runtime_dir)) == []
        repo.pants("package", *LAYERS, env=env).check()
        assert credential_daemons.left_behind(sockets(runtime_dir)) == []
        [pantsd] = repo.pantsd_pids()
        assert TOKEN.encode() not in Path(f"/proc/{pantsd}/environ").read_bytes()
    finally:
        repo.stop_pantsd()

    assert "@v0.1.6" in repo.path(REQUIREMENTS).read_text()
    lock_after = repo.path("3rdparty/python/default.lock").read_text()
    changed = set(lock_after.splitlines()) ^ set(lock_before.splitlines())
    # Besides the framework's line, only the header's digest of the pinned lines changes.
    digests = {line for line in changed if '"pins_sha256"' in line}
    assert len(digests) == 2, changed
    assert {line.strip('# ,"') for line in changed - digests} == {
        "test-common-framework @ git+https://github.com/amithasarath/test_common_framework.git@v0.1.5",
        "test-common-framework @ git+https://github.com/amithasarath/test_common_framework.git@v0.1.6",
    }
    assert sha256(repo.path(PYPI_ZIP)) == before[PYPI_ZIP]
    assert sha256(repo.path(FRAMEWORK_ZIP)) != before[FRAMEWORK_ZIP]
    assert framework_source(repo)["tag"] == "v0.1.6"


def test_a_wrong_tag_names_the_tag_and_the_repository(
    repo: RepoCopy, git_host: GitHttpServer, runtime_dir: Path
) -> None:
    requirements = repo.path(REQUIREMENTS)
    original = requirements.read_text()
    requirements.write_text(re.sub(r"\.git@v[\d.]+", ".git@v9.9.9", original))
    try:
        run = repo.pants("package", "3rdparty/python:framework", env=source(git_host, runtime_dir))
    finally:
        requirements.write_text(original)

    assert run.returncode != 0
    assert (
        f"Tag v9.9.9 (from {repo.root}/{REQUIREMENTS}) is not in the framework repository "
        f"{git_host.url('test_common_framework.git')}. Tags there: v0.1.5 v0.1.6" in run.stderr
    )
