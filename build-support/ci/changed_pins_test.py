from __future__ import annotations

import json

import pytest
from changed_pins import EverythingChanged, Repository, affected_by_lockfile, select

LOCK = "3rdparty/python/default.lock"
FRAMEWORK_REQS = "3rdparty/python/framework-requirements.txt"
OLD_TAG = "test-common-framework @ git+https://example.invalid/f.git@v0.1.5"
NEW_TAG = OLD_TAG.replace("v0.1.5", "v0.1.6")


def lockfile(pins: list[str], required_by: dict[str, list[str]], constraints: str = "CPython==3.11.*") -> str:
    metadata = {
        "version": 3,
        "valid_for_interpreter_constraints": [constraints],
        "lambda_platform": {"runtime": "python3.11", "architecture": "x86_64"},
        "required_by": required_by,
    }
    header = "\n".join(f"# {line}" for line in json.dumps(metadata, indent=2).splitlines())
    return (
        "# --- BEGIN PANTS LOCKFILE METADATA: DO NOT EDIT OR REMOVE ---\n"
        f"{header}\n# --- END PANTS LOCKFILE METADATA ---\n\n# a comment\n" + "\n".join(pins) + "\n"
    )


REQUIRED_BY = {
    "numpy": ["numpy", "opencv-python-headless"],
    "opencv-python-headless": ["opencv-python-headless"],
    "requests": ["requests"],
    "urllib3": ["requests"],
    "test-common-framework": ["test-common-framework"],
}
PINS = ["numpy==2.2.6", "opencv-python-headless==5.0.0.93", "requests==2.34.2", "urllib3==2.5.0", OLD_TAG]


def target(address: str, target_type: str, dependencies: list[str] = (), **fields) -> dict:
    return {"address": address, "target_type": target_type, "dependencies": list(dependencies), **fields}


def repository() -> Repository:
    """A repository shaped like ours, as `./pants peek ::` shows it."""
    lockfile_target = "3rdparty/python/default.lock:_python-default_lockfile"

    def requirement(generator: str, name: str) -> dict:
        return target(
            f"3rdparty/python:{generator}#{name}",
            "python_requirement",
            [lockfile_target],
            requirements=[name],
            resolve=None,
        )

    return Repository.from_peek(
        [
            target(lockfile_target, "_lockfile", sources=[LOCK]),
            target(
                "3rdparty/python:pypi_reqs",
                "python_requirements",
                [f"3rdparty/python:pypi_reqs#{n}" for n in ("numpy", "opencv-python-headless", "requests")],
                sources=["3rdparty/python/pypi-requirements.txt"],
            ),
            target(
                "3rdparty/python:framework_reqs",
                "python_requirements",
                ["3rdparty/python:framework_reqs#test-common-framework"],
                sources=[FRAMEWORK_REQS],
            ),
            requirement("pypi_reqs", "numpy"),
            requirement("pypi_reqs", "opencv-python-headless"),
            requirement("pypi_reqs", "requests"),
            target(
                "3rdparty/python:framework_reqs#test-common-framework",
                "python_requirement",
                [lockfile_target],
                requirements=[OLD_TAG],
                resolve=None,
            ),
            target("3rdparty/python:pypi", "python_aws_lambda_layer", ["3rdparty/python:pypi_reqs"]),
            target(
                "3rdparty/python:framework", "python_aws_lambda_layer", ["3rdparty/python:framework_reqs"]
            ),
            target(
                "src/api/handler.py",
                "python_source",
                [
                    "3rdparty/python:framework_reqs#test-common-framework",
                    "3rdparty/python:pypi_reqs#requests",
                ],
                sources=["src/api/handler.py"],
            ),
            target(
                "src/api/handler_test.py",
                "python_test",
                ["src/api/handler.py"],
                sources=["src/api/handler_test.py"],
            ),
            target(
                "src/api:lambda",
                "python_aws_lambda_function",
                ["src/api/handler.py"],
                include_requirements=False,
            ),
            target(
                "src/thumb/handler.py",
                "python_source",
                ["3rdparty/python:pypi_reqs#numpy", "3rdparty/python:pypi_reqs#opencv-python-headless"],
                sources=["src/thumb/handler.py"],
            ),
            target(
                "src/thumb:lambda",
                "python_aws_lambda_function",
                ["src/thumb/handler.py"],
                include_requirements=False,
            ),
            target(
                "src/fat:lambda",
                "python_aws_lambda_function",
                ["src/thumb/handler.py"],
                include_requirements=True,
            ),
            target("//:repository", "repository_snapshot"),
            target(
                "tests/integration/build_test.py",
                "python_test",
                ["//:repository"],
                sources=["tests/integration/build_test.py"],
            ),
        ]
    )


def lock_change(old_pins: list[str], new_pins: list[str]) -> tuple[dict, dict]:
    return {LOCK: lockfile(old_pins, REQUIRED_BY)}, {LOCK: lockfile(new_pins, REQUIRED_BY)}


def test_a_framework_tag_bump_packages_the_framework_layer_only() -> None:
    old, new = lock_change(PINS, [*PINS[:-1], NEW_TAG])
    old[FRAMEWORK_REQS], new[FRAMEWORK_REQS] = f"{OLD_TAG}\n", f"{NEW_TAG}\n"
    changed = [LOCK, FRAMEWORK_REQS]

    assert select(repository(), changed, old, new, "package") == ["3rdparty/python:framework"]
    tests = select(repository(), changed, old, new, "test")
    assert {"src/api:lambda", "src/api/handler_test.py", "tests/integration/build_test.py"} <= set(tests)
    assert not {
        t for t in tests if t.startswith("src/thumb") or t in ("3rdparty/python:pypi", "src/fat:lambda")
    }


def test_a_numpy_bump_packages_the_pypi_layer_and_tests_its_users() -> None:
    old, new = lock_change(PINS, ["numpy==2.2.5", *PINS[1:]])

    # src/fat ships its requirements itself, so its zip changes too.
    assert select(repository(), [LOCK], old, new, "package") == ["3rdparty/python:pypi", "src/fat:lambda"]
    tests = select(repository(), [LOCK], old, new, "test")
    assert "src/thumb:lambda" in tests and "src/api:lambda" not in tests


def test_a_transitive_pin_selects_what_requested_it() -> None:
    old, new = lock_change(PINS, [p.replace("urllib3==2.5.0", "urllib3==2.5.1") for p in PINS])

    tests = select(repository(), [LOCK], old, new, "test")

    assert "src/api:lambda" in tests and "src/thumb:lambda" not in tests


def test_a_code_change_beside_a_pin_change_selects_both() -> None:
    old, new = lock_change(PINS, ["numpy==2.2.5", *PINS[1:]])

    packages = select(repository(), [LOCK, "src/api/handler.py"], old, new, "package")

    assert packages == ["3rdparty/python:pypi", "src/api:lambda", "src/fat:lambda"]


@pytest.mark.parametrize(
    "old_text, new_text, reason",
    [
        (
            lockfile(PINS, REQUIRED_BY),
            lockfile(PINS, REQUIRED_BY, "CPython==3.12.*"),
            "`valid_for_interpreter_constraints` changed",
        ),
        (
            lockfile(PINS, REQUIRED_BY),
            lockfile(PINS, REQUIRED_BY).replace('"x86_64"', '"arm64"'),
            "`lambda_platform` changed",
        ),
        (None, lockfile(PINS, REQUIRED_BY), "was added"),
    ],
)
def test_a_header_change_changes_everything(old_text: str | None, new_text: str, reason: str) -> None:
    with pytest.raises(EverythingChanged, match=reason):
        affected_by_lockfile(LOCK, old_text, new_text)


def test_only_the_header_s_digest_changing_selects_nothing() -> None:
    old, new = lock_change(PINS, PINS)

    assert select(repository(), [LOCK], old, new, "package") == []
