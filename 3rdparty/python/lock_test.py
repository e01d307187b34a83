from __future__ import annotations

from pathlib import Path

import pytest
from lambda_targets.platforms import LambdaPlatform
from lock import LambdaResolution, Pin, find_python, is_pure, merge
from lockfiles import RESOLVES_BY_NAME, LockError, lockfile_text, read_requirements
from pants.backend.python.pip_requirement import PipRequirement
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.lockfile_metadata import PythonLockfileMetadata

LAMBDA = LambdaPlatform("python3.11", "x86_64")


def test_header_is_one_pants_reads_and_validates() -> None:
    resolve = RESOLVES_BY_NAME["python-default"]
    requirements = ["boto3", "test-common-framework @ git+https://github.com/o/r.git@v1"]

    text = lockfile_text(resolve, requirements, ["3.11"], ["boto3==1.0"], LAMBDA)
    metadata = PythonLockfileMetadata.from_lockfile(text.encode(), resolve_name=resolve.name, delimeter="#")

    validation = metadata.is_valid_for(
        expected_invalidation_digest=None,
        user_interpreter_constraints=InterpreterConstraints(["CPython==3.11.*"]),
        interpreter_universe=["3.9", "3.10", "3.11", "3.12"],
        user_requirements=[PipRequirement.parse(r) for r in requirements],
        manylinux="manylinux2014",
        requirement_constraints=[],
        only_binary=[],
        no_binary=[],
    )
    assert validation
    assert "./pants run 3rdparty/python/lock.py -- --resolve python-default" in text
    assert text.rstrip().endswith("boto3==1.0")


def test_merge_marks_pins_only_some_interpreters_need() -> None:
    lines = merge(
        {
            "3.9": [Pin("pytest", "7.0.1"), Pin("tomli", "2.0.1")],
            "3.11": [Pin("pytest", "7.0.1")],
        }
    )

    assert lines == ["pytest==7.0.1", 'tomli==2.0.1; python_version == "3.9"']


def test_merge_refuses_different_versions_per_interpreter() -> None:
    with pytest.raises(LockError, match="resolved to 1.0 and 2.0"):
        merge({"3.9": [Pin("a", "1.0")], "3.11": [Pin("a", "2.0")]})


def test_direct_requirements_keep_their_git_url() -> None:
    pin = Pin("test-common-framework", "0.1.5+sample", "test-common-framework @ git+https://x/y.git@v0.1.5")

    assert merge({"3.11": [pin]}) == ["test-common-framework @ git+https://x/y.git@v0.1.5"]


@pytest.mark.parametrize(
    "wheel, pure",
    [
        ("six-1.17.0-py2.py3-none-any.whl", True),
        ("numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", False),
        ("thing-1.0-cp311-abi3-linux_x86_64.whl", False),
    ],
)
def test_is_pure(wheel: str, pure: bool) -> None:
    assert is_pure(wheel) is pure


def test_a_wheel_lambda_cannot_load_is_refused(tmp_path: Path) -> None:
    resolution = LambdaResolution(LAMBDA, "unused-python", tmp_path)

    resolution.check_wheel("numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    with pytest.raises(LockError, match="cannot load"):
        resolution.check_wheel("numpy-2.3.0-cp311-cp311-manylinux_2_28_x86_64.whl")


def test_bad_requirement_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "reqs.txt"
    path.write_text("# comment\nrequests\nnot a requirement!\n")

    with pytest.raises(LockError, match=r"reqs.txt:3: 'not a requirement!' is not a valid requirement"):
        read_requirements(path)


def test_numpy_without_a_lambda_wheel_is_a_clear_error(tmp_path: Path) -> None:
    """Resolves against the real index: numpy 2.3+ ships only manylinux_2_28 wheels for x86_64."""
    resolution = LambdaResolution(LAMBDA, find_python("3.11"), tmp_path)

    with pytest.raises(LockError) as error:
        resolution.resolve(["numpy==2.3.0"], {})

    message = str(error.value)
    assert "No release matching 'numpy==2.3.0' has a wheel for Lambda python3.11 x86_64" in message
    assert "manylinux_2_28_x86_64" in message
    assert "3rdparty/python/pypi-requirements.txt" in message
    assert "`numpy<2.3.0`" in message


def test_lambda_resolution_picks_the_newest_numpy_that_fits(tmp_path: Path) -> None:
    pins = LambdaResolution(LAMBDA, find_python("3.11"), tmp_path).resolve(["numpy>=2.2,<2.4"], {})

    assert [(pin.name, pin.version) for pin in pins] == [("numpy", "2.2.6")]


def test_a_kept_pin_without_a_lambda_wheel_is_a_clear_error(tmp_path: Path) -> None:
    """A lockfile edited by hand to numpy 2.3.0, relocked with --keep-pins (real index)."""
    resolution = LambdaResolution(LAMBDA, find_python("3.11"), tmp_path)

    with pytest.raises(LockError) as error:
        resolution.check_pins(["requests==2.32.3", "numpy==2.3.0"], "default.lock", relock="RELOCK")

    message = str(error.value)
    assert "default.lock pins numpy==2.3.0, which has no wheel for Lambda python3.11 x86_64" in message
    assert "manylinux_2_28_x86_64" in message
    assert "`RELOCK`" in message
