"""Remote caching against a real BuildGrid server on loopback, from copies of this repository.

Each build gets its own local store, so each is a different machine as far as Pants' results
are concerned; only the remote cache is shared. The download caches (Pants' named caches: Pex's
and uv's) are this machine's, as on a CI runner that restores them: they hold wheels, never a
process result, so they cannot answer for the remote cache, and fetching every wheel from PyPI
again per machine only made the test slower.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
from buildgrid_cache.server import BuildGrid, hs256_jwt
from integration.repo_copy import PantsRun, RepoCopy

ARTIFACTS = (
    "3rdparty/python:pypi",
    "3rdparty/python:framework",
    "src/python/api_handler:lambda",
    "src/python/thumbnail:lambda",
)
SECRET = secrets.token_hex(32).encode()  # BuildGrid reads the secret file as text
TOKEN = hs256_jwt(SECRET)


def counters(output: str) -> dict[str, int]:
    """Pants' `--stats-log` counters, e.g. {"remote_cache_requests_cached": 12}."""
    return {name: int(value) for name, value in re.findall(r"^\s+(\w+): (\d+)$", output, re.MULTILINE)}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> RepoCopy:
    return RepoCopy(tmp_path_factory.mktemp("remote") / "repo")


@pytest.fixture(scope="module")
def cache(repo: RepoCopy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuildGrid]:
    server = BuildGrid(repo.root, tmp_path_factory.mktemp("buildgrid"), jwt_secret=SECRET)
    yield server
    server.stop()


def remote_env(
    cache: BuildGrid, *, write: bool, authorization: str | None = f"Bearer {TOKEN}"
) -> dict[str, str]:
    env = {"PANTS_CONFIG_FILES": "pants.remote.toml", "REMOTE_CACHE_ADDRESS": cache.address}
    if authorization:
        env["REMOTE_CACHE_AUTHORIZATION"] = authorization
    if write:
        env["PANTS_REMOTE_CACHE_WRITE"] = "true"
    return env


def machine(repo: RepoCopy, name: str) -> list[str]:
    """Flags that give a build its own local store: a machine that has built nothing."""
    root = repo.root.parent / "machines" / name
    return [f"--local-store-dir={root}/lmdb_store", "--stats-log"]


def package(repo: RepoCopy, name: str, env: dict[str, str]) -> PantsRun:
    shutil.rmtree(repo.path("dist"), ignore_errors=True)
    return repo.pants(*machine(repo, name), "package", *ARTIFACTS, env=env).check()


def digests(repo: RepoCopy) -> dict[str, str]:
    dist = repo.path("dist")
    return {
        str(p.relative_to(dist)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(dist.rglob("*.zip"))
    }


@pytest.fixture(scope="module")
def first_and_second_machine(repo: RepoCopy, cache: BuildGrid) -> tuple[PantsRun, dict, PantsRun, dict]:
    first = package(repo, "a", remote_env(cache, write=True))
    first_zips = digests(repo)
    second = package(repo, "b", remote_env(cache, write=False))
    return first, first_zips, second, digests(repo)


def test_a_second_machine_takes_every_result_from_the_cache_and_builds_the_same_bytes(
    first_and_second_machine: tuple[PantsRun, dict, PantsRun, dict],
) -> None:
    first, first_zips, second, second_zips = first_and_second_machine

    wrote = counters(first.stderr)
    assert wrote["remote_cache_write_errors"] == 0
    read = counters(second.stderr)
    # Everything the second machine asked for was in the cache, at least each zip's own step
    # (how many processes an artifact takes is the plugin's business). The first may write a
    # result or two that the second never asks for: one in 13 did, once, on a loaded machine.
    assert wrote["remote_cache_write_successes"] >= read["remote_cache_requests_cached"] >= len(first_zips)
    assert read["remote_cache_requests_uncached"] == 0
    assert len(first_zips) == 4 and second_zips == first_zips


def test_laptops_only_read(first_and_second_machine: tuple[PantsRun, dict, PantsRun, dict]) -> None:
    _, _, second, _ = first_and_second_machine

    assert counters(second.stderr).get("remote_cache_write_attempts", 0) == 0


def test_without_the_authorization_header_the_cache_refuses_but_the_build_succeeds(
    repo: RepoCopy, cache: BuildGrid
) -> None:
    run = repo.pants(
        *machine(repo, "no-auth"),
        "package",
        "3rdparty/python:framework",
        env=remote_env(cache, write=True, authorization=None),
    ).check()

    assert "Unauthenticated" in run.stderr
    assert counters(run.stderr)["remote_cache_write_successes"] == 0
    assert repo.path("dist/3rdparty.python/framework.zip").is_file()


def test_a_cache_that_goes_away_mid_build_is_a_warning_not_a_failure(
    repo: RepoCopy, tmp_path_factory: pytest.TempPathFactory
) -> None:
    doomed = BuildGrid(repo.root, tmp_path_factory.mktemp("doomed"))
    shutil.rmtree(repo.path("dist"), ignore_errors=True)
    env = {**repo.environment(), **remote_env(doomed, write=True, authorization=None)}
    argv = ["./pants", *machine(repo, "c"), "package", *ARTIFACTS]
    build = subprocess.Popen(
        argv, cwd=repo.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(15)  # past start-up, into the resolves
    doomed.stop()
    stdout, stderr = build.communicate(timeout=900)

    assert build.returncode == 0, stderr[-4000:]
    assert "remote cache" in stderr and "[WARN]" in stderr
    assert len(list(repo.path("dist").rglob("*.zip"))) == 4


def test_the_authorization_header_is_in_no_log_and_no_work_folder(
    repo: RepoCopy, first_and_second_machine: tuple[PantsRun, dict, PantsRun, dict]
) -> None:
    first, _, second, _ = first_and_second_machine
    needles = [TOKEN.encode(), SECRET]
    places = [repo.path(".pants.d"), repo.path("dist"), repo.root.parent / "machines"]

    found = [
        str(path)
        for place in places
        for path in place.rglob("*")
        if path.is_file() and not path.is_symlink() and any(needle in path.read_bytes() for needle in needles)
    ]
    assert found == []
    assert TOKEN not in first.output + second.output
