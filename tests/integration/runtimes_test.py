"""The PyPI layer built for Lambda runtimes other than python3.11 x86_64, in a copy of the repository.

Only one Lambda platform is built day to day, so these checks are what stands between a runtime
change and layers that fail on Lambda at the first import. For each platform that
tests/integration/BUILD names (python3.13 arm64, python3.12 x86_64; one test process each), the
test turns the knob, relocks every resolve with the lock command and
packages the PyPI layer (from PyPI, through uv's cache), then checks the layer's files the way
Lambda's loader would see them:

- every compiled extension is an ELF file for the runtime's CPU, and needs glibc <= 2.34
  (Amazon Linux 2023), with lambda_check.py's ELF reader, the one the sandbox check uses;
- every distribution's wheel tags include one that the runtime's CPython accepts;
- every `.pyc` is for the runtime's CPython (its file name and magic number) and unchecked-hash;
- the lockfile's header says which interpreters and Lambda platform it was resolved for;
- `./pants test src/python::` passes: the functions' unit tests run on the runtime's CPython;
- on this machine's CPU (python3.12 x86_64), the artifact tests pass and `invoke` runs a handler
  on the runtime's CPython, moved by the root BUILD alone.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path

import pytest
from integration.repo_copy import RepoCopy
from lambda_artifacts.lambda_check import ELF_MACHINES, check_shared_objects, elf_facts
from lambda_artifacts.size_limit import UNZIPPED_LIMIT_BYTES
from lambda_targets.platforms import LambdaPlatform
from lambda_targets.repository_platform import lockfile_header

PYPI_LAYER = "3rdparty/python:pypi"
PYPI_ZIP = "dist/3rdparty.python/pypi.zip"
PYPI_METADATA = "dist/3rdparty.python/pypi.metadata.json"
LOCKFILE = "3rdparty/python/default.lock"
# Every resolve: the tools' resolves that share pins with the layers follow the runtime too.
# --keep-pins holds the versions locked for python3.11 where the new platform has wheels for
# them, so the layer checked is today's, not whatever PyPI's newest is (opencv-python-headless
# 5.1 for python3.12 x86_64 no longer fits Lambda's limit on its own).
LOCK_COMMAND = ("run", "3rdparty/python/lock.py", "--", "--keep-pins")

# importlib.util.MAGIC_NUMBER per CPython minor version: fixed for every release of a minor
# (Lib/importlib/_bootstrap_external.py); checked against CPython 3.11.7, 3.12.1 and 3.13.0.
PYC_MAGIC = {
    (3, 11): (3495).to_bytes(2, "little") + b"\r\n",
    (3, 12): (3531).to_bytes(2, "little") + b"\r\n",
    (3, 13): (3571).to_bytes(2, "little") + b"\r\n",
}


def host_machine() -> str:
    """This machine's CPU, as wheel tags and LambdaPlatform.machine spell it."""
    return {"arm64": "aarch64"}.get(os.uname().machine, os.uname().machine)


def turn_the_knob(repo: RepoCopy, platform: LambdaPlatform) -> None:
    """Points the repository copy at another Lambda platform: the one line that
    docs/changing-the-runtime.md says to edit. The lock command does the rest."""
    edit(
        repo.path("BUILD"),
        (
            r'runtime="python3\.\d+",\s+architecture="\w+"',
            f'runtime="{platform.runtime}", architecture="{platform.architecture}"',
        ),
    )


def edit(path: Path, *substitutions: tuple[str, str]) -> None:
    """Each pattern must match exactly once: if the file changed shape, fail here, not later."""
    text = path.read_text()
    for pattern, replacement in substitutions:
        text, count = re.subn(pattern, replacement, text)
        assert count == 1, f"{pattern!r} matched {count} times in {path}: update turn_the_knob()"
    path.write_text(text)


def check_extensions(root: Path, platform: LambdaPlatform) -> list[str]:
    """Problems with the layer's shared objects; also fails if there are none to check."""
    problems = check_shared_objects([root / "python"], platform.glibc, platform.machine)
    checked = [path for path in root.rglob("*.so*") if path.is_file() and elf_facts(path) is not None]
    machines = {elf_facts(path)[0] for path in checked}
    if machines != {ELF_MACHINES[platform.machine]}:
        problems.append(f"ELF machines {machines} in {len(checked)} shared objects, not {platform.machine}")
    return problems


def check_wheel_tags(root: Path, platform: LambdaPlatform) -> list[str]:
    accepted = set(platform.compatible_tags())
    problems = []
    wheels = sorted((root / "python").glob("*.dist-info/WHEEL"))
    for wheel in wheels:
        tags = [
            line.split(":", 1)[1].strip()
            for line in wheel.read_text().splitlines()
            if line.startswith("Tag:")
        ]
        if not accepted.intersection(tags):
            problems.append(
                f"{wheel.parent.name} is tagged {', '.join(tags)}: {platform.runtime} accepts none"
            )
    return problems if wheels else ["no .dist-info/WHEEL in the layer"]


def check_bytecode(root: Path, platform: LambdaPlatform) -> list[str]:
    major, minor = platform.python_version
    suffix = f".cpython-{major}{minor}.pyc"
    problems = []
    compiled = sorted(root.rglob("*.pyc"))
    for pyc in compiled:
        data = pyc.read_bytes()
        relative = pyc.relative_to(root)
        if not pyc.name.endswith(suffix) or data[:4] != PYC_MAGIC[(major, minor)]:
            problems.append(f"{relative} is not bytecode for CPython {major}.{minor}")
        elif int.from_bytes(data[4:8], "little") != 0b01:  # PEP 552: hash-based, unchecked
            problems.append(f"{relative} is not unchecked-hash bytecode")
    return problems if compiled else ["no .pyc in the layer"]


def build_pypi_layer(repo: RepoCopy, platform: LambdaPlatform, unpacked: Path) -> dict:
    turn_the_knob(repo, platform)
    repo.pants(*LOCK_COMMAND).check()
    repo.pants("package", PYPI_LAYER).check()
    with zipfile.ZipFile(repo.path(PYPI_ZIP)) as zf:
        zf.extractall(unpacked)
    return json.loads(repo.path(PYPI_METADATA).read_text())


def platforms_under_test() -> list[LambdaPlatform]:
    """The platforms this process checks: tests/integration/BUILD runs one process per platform
    (LAMBDA_PLATFORM_UNDER_TEST, space-separated slugs such as python3.12-x86_64)."""
    slugs = os.environ.get("LAMBDA_PLATFORM_UNDER_TEST", "").split()
    assert (
        slugs
    ), "LAMBDA_PLATFORM_UNDER_TEST is not set: run this test with ./pants test, see tests/integration/BUILD"
    return [LambdaPlatform(*slug.split("-", 1)) for slug in slugs]  # an unknown one fails, named


@pytest.mark.parametrize("platform", platforms_under_test(), ids=lambda platform: platform.slug)
def test_the_pypi_layer_builds_for_the_runtime_and_cpu_it_is_set_to(
    platform: LambdaPlatform, tmp_path: Path
) -> None:
    repo = RepoCopy(tmp_path / "repo")
    unpacked = tmp_path / "layer"

    metadata = build_pypi_layer(repo, platform, unpacked)

    major, minor = platform.python_version
    header = lockfile_header(repo.path(LOCKFILE).read_text())
    assert header["valid_for_interpreter_constraints"] == [f"CPython=={major}.{minor}.*"]
    assert header["lambda_platform"] == {"runtime": platform.runtime, "architecture": platform.architecture}
    # The lock command pointed pants.toml's constraints at the runtime's CPython: the Lambda
    # resolve's, the tools' that share its pins, and pytest's (beside Pants' own 3.9).
    pants_toml = repo.path("pants.toml").read_text()
    runtime_cpython = f'"CPython=={major}.{minor}.*"'
    assert f"python-default = [{runtime_cpython}]" in pants_toml
    assert f'pytest = ["CPython==3.9.*", {runtime_cpython}]' in pants_toml
    assert f"\ninterpreter_constraints = [{runtime_cpython}]\n" in pants_toml
    assert f"# Resolved for {platform.describe()}: every pin below" in repo.path(LOCKFILE).read_text()
    assert (metadata["runtime"], metadata["architecture"]) == (platform.runtime, platform.architecture)
    assert check_extensions(unpacked, platform) == []
    assert check_wheel_tags(unpacked, platform) == []
    assert check_bytecode(unpacked, platform) == []
    # The functions' own unit tests, and the Lambda-sandbox check of each function, on the
    # runtime's CPython: the resolves they use followed the runtime, and Pex accepts it. Where
    # this machine can run the runtime's code, the artifact tests (tests/artifacts) and `invoke`
    # too: the one line in the root BUILD moved them, through the artifacts' metadata.
    runs_here = platform.machine == host_machine()
    # (The copy's functions are the samples: the artifact tests of the example handlers' answers
    # are left out.)
    tests = repo.pants(
        "test",
        "src/python::",
        *(["tests/artifacts::"] if runs_here else []),
        "--test-output=all",
        "--",
        "-m",
        "not handler_behaviour",
    ).check()
    assert f"platform linux -- Python {major}.{minor}." in tests.output
    if runs_here:
        assert "tests/artifacts/artifacts_test.py:tests succeeded" in tests.output
        repo.pants("package", "src/python/api_handler:lambda", "3rdparty/python:framework").check()
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"name": "Ada"}))
        invoked = repo.pants("run", "deploy", "--", "invoke", "api-handler", "--event", str(event)).check()
        assert (
            f"api-handler: {platform.runtime} {platform.architecture}, run by CPython {major}.{minor} ("
            in invoked.stderr
        )
        assert json.loads(json.loads(invoked.stdout)["body"])["hello"] == "Ada"
    # For the record (pytest -s, or --test-output=all): the size against Lambda's limit.
    print(
        f"{platform.slug}: PyPI layer {metadata['unzipped_bytes']:,} bytes unzipped, "
        f"{100 * metadata['unzipped_bytes'] / UNZIPPED_LIMIT_BYTES:.1f}% of {UNZIPPED_LIMIT_BYTES:,}"
    )
