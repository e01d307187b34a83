"""The lock command: its reading of uv's output, and, against the real index with the uv ./pants
fetched, the Lambda platform's resolution and the errors a user gets for bad input."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lambda_targets.platforms import LambdaPlatform
from lock import (
    Pin,
    Repositories,
    Resolution,
    Target,
    Uv,
    find_python,
    merge,
    parse_compiled,
    required_by,
    uv_binary,
    uv_cache_dir,
)
from lockfiles import RESOLVES_BY_NAME, LockError, lockfile_text, read_requirements
from pants.backend.python.pip_requirement import PipRequirement
from pants.backend.python.util_rules.interpreter_constraints import InterpreterConstraints
from pants.backend.python.util_rules.lockfile_metadata import PythonLockfileMetadata

LAMBDA = LambdaPlatform("python3.11", "x86_64")
DEFAULT = RESOLVES_BY_NAME["python-default"]


def test_header_is_one_pants_reads_and_validates() -> None:
    requirements = ["boto3", "test-common-framework @ git+https://github.com/o/r.git@v1"]

    text = lockfile_text(DEFAULT, requirements, ["3.11"], ["boto3==1.0"], LAMBDA)
    metadata = PythonLockfileMetadata.from_lockfile(text.encode(), resolve_name=DEFAULT.name, delimeter="#")

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


COMPILED = """\
boto3==1.44.8
    # via
    #   -r requirements.in
    #   watchtower
jmespath==1.1.0
    # via
    #   -c constraints.txt
    #   boto3
    #   botocore
botocore==1.44.8
    # via boto3
test-common-framework @ git+https://github.com/o/r.git@057b8d5380df2d5676c788d7e668528b82a13991
    # via -r requirements.in
watchtower==3.4.0
    # via -r requirements.in
"""
FRAMEWORK = "test-common-framework @ git+https://github.com/o/r.git@v0.1.5"


def test_uv_output_becomes_pins_that_keep_the_git_line_as_written() -> None:
    pins = parse_compiled(COMPILED, ["boto3", "watchtower", FRAMEWORK])

    assert [pin.line() for pin in pins] == [
        "boto3==1.44.8",
        "jmespath==1.1.0",
        "botocore==1.44.8",
        FRAMEWORK,  # not the commit uv found: that differs between the sample and GitHub
        "watchtower==3.4.0",
    ]
    assert [pin.key for pin in pins if pin.requested] == ["boto3", "test-common-framework", "watchtower"]
    assert pins[1].needed_by == ("boto3", "botocore")  # a constraint is no dependent


def test_required_by_follows_dependents_up_to_what_was_requested() -> None:
    pins = parse_compiled(COMPILED, ["boto3", "watchtower", FRAMEWORK])

    assert required_by(pins) == {
        "boto3": ["boto3", "watchtower"],
        "botocore": ["boto3", "watchtower"],
        "jmespath": ["boto3", "watchtower"],
        "test-common-framework": ["test-common-framework"],
        "watchtower": ["watchtower"],
    }


def test_required_by_merges_interpreters() -> None:
    on_39 = [Pin("pytest", "7.0.1", requested=True), Pin("tomli", "2.0.1", needed_by=("pytest",))]
    on_311 = [Pin("pytest", "7.0.1", requested=True)]

    assert required_by(on_39 + on_311) == {"pytest": ["pytest"], "tomli": ["pytest"]}


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


def test_bad_requirement_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "reqs.txt"
    path.write_text("# comment\nrequests\nnot a requirement!\n")

    with pytest.raises(LockError, match=r"reqs.txt:3: 'not a requirement!' is not a valid requirement"):
        read_requirements(path)


# --- With uv, against the real index ---------------------------------------------------------


@pytest.fixture
def uv() -> Uv:
    return Uv(uv_binary(), uv_cache_dir(), Repositories.from_environment())


def lambda_resolution(uv: Uv, tmp_path: Path, **kwargs) -> Resolution:
    return Resolution(
        uv,
        Target(find_python("3.11"), "3.11", LAMBDA),
        DEFAULT,
        Path("3rdparty/python/default.lock"),
        tmp_path,
        **kwargs,
    )


def test_lambda_resolution_picks_the_newest_numpy_that_fits(uv: Uv, tmp_path: Path) -> None:
    pins = lambda_resolution(uv, tmp_path).compile(["numpy>=2.2,<2.4"], [])

    # numpy 2.3 ships x86_64 wheels for manylinux_2_28 only; Amazon Linux 2 has glibc 2.26.
    assert [(pin.name, pin.version) for pin in pins] == [("numpy", "2.2.6")]


def test_a_requirement_without_a_lambda_wheel_is_a_clear_error(uv: Uv, tmp_path: Path) -> None:
    with pytest.raises(LockError) as error:
        lambda_resolution(uv, tmp_path).compile(["numpy>=2.3"], [])

    message = str(error.value)
    assert message.startswith(f"numpy has no wheel for {LAMBDA.describe()} in any release that ")
    # The ways out: an older release (the newest that fits is named), another runtime, leaving it out.
    assert "`numpy<=2.2.6` in 3rdparty/python/pypi-requirements.txt" in message
    assert "numpy 2.2.6 is the newest release with such a wheel" in message
    assert "another runtime or architecture in the root BUILD" in message
    assert "if nothing imports numpy on Lambda, drop the requirement" in message
    assert "uv said:" in message


def test_a_kept_pin_without_a_lambda_wheel_names_the_lockfile(uv: Uv, tmp_path: Path) -> None:
    """A lockfile edited by hand to numpy 2.3.0, relocked with --keep-pins."""
    resolution = lambda_resolution(uv, tmp_path, kept={"numpy": "2.3.0"})

    with pytest.raises(LockError) as error:
        resolution.compile(["numpy"], ["numpy==2.3.0"])

    message = str(error.value)
    assert (
        f"3rdparty/python/default.lock pins numpy==2.3.0, which has no wheel for {LAMBDA.describe()}"
        in message
    )
    assert "`./pants run 3rdparty/python/lock.py -- --resolve python-default`" in message


def git_repository(path: Path, files: dict[str, str]) -> str:
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@invalid", "-C", str(path)]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"], ["tag", "v1"]):
        subprocess.run([*git, *args], check=True)
    return f"git+file://{path}@v1"


def test_a_git_requirement_that_does_not_build_is_a_clear_error(uv: Uv, tmp_path: Path) -> None:
    url = git_repository(
        tmp_path / "broken",
        {"setup.py": "raise SystemExit('this package cannot be built')\n"},
    )

    with pytest.raises(LockError) as error:
        lambda_resolution(uv, tmp_path).compile([f"broken @ {url}"], [])

    message = str(error.value)
    assert f"uv could not build broken @ {url} from source for {LAMBDA.describe()}" in message
    assert "this package cannot be built" in message  # the build's own output


def test_an_unreachable_index_is_a_clear_error(
    uv: Uv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    offline = Uv(uv.exe, str(tmp_path / "empty-cache"), Repositories(("http://127.0.0.1:9/simple/",), ()))

    with pytest.raises(LockError) as error:
        lambda_resolution(offline, tmp_path).compile(["requests"], [])

    message = str(error.value)
    assert "could not reach http://127.0.0.1:9/simple/requests/" in message
    assert "pip's configuration" in message and "[python-repos]" in message
