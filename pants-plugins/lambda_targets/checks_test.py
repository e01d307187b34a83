"""The package-time checks on zip-step reports, without building anything."""

from __future__ import annotations

import pytest
from lambda_artifacts.size_limit import UNZIPPED_LIMIT_BYTES
from lambda_targets.checks import (
    LambdaCheckFailed,
    check_layer_size,
    check_size,
    check_third_party_is_provided,
    size_log_lines,
    size_warning,
)
from pants.engine.addresses import Address

LIMIT = UNZIPPED_LIMIT_BYTES


def report(unzipped: int, *distributions: tuple[str, str | None, int], **extra) -> dict:
    return {
        "unzipped_bytes": unzipped,
        "zipped_bytes": unzipped // 3,
        "distributions": [
            {"name": name, "version": version, "unzipped_bytes": size}
            for name, version, size in distributions
        ],
        **extra,
    }


def test_a_distribution_no_layer_ships_is_named_with_the_target_that_requires_it() -> None:
    function = report(1_000, ("<first-party>", None, 1_000))
    layer = report(50_000, ("requests", "2.32.3", 40_000), ("urllib3", "2.2.3", 10_000))

    check_third_party_is_provided(
        "src/python/fn:lambda",
        ("3rdparty/python:pypi",),
        {"requests": "3rdparty/python:reqs#requests"},
        [function, layer],
    )
    with pytest.raises(LambdaCheckFailed) as failure:
        check_third_party_is_provided(
            "src/python/fn:lambda",
            ("3rdparty/python:pypi",),
            {"requests": "3rdparty/python:reqs#requests", "pyyaml": "3rdparty/python:reqs#pyyaml"},
            [function, layer],
        )
    message = str(failure.value)
    assert "src/python/fn:lambda depends on third-party code" in message
    assert "    pyyaml (from 3rdparty/python:reqs#pyyaml)" in message
    assert "requests (from" not in message
    assert "Its `layers` are: 3rdparty/python:pypi." in message


def test_a_function_without_layers_says_so() -> None:
    with pytest.raises(LambdaCheckFailed, match="Its `layers` are: none"):
        check_third_party_is_provided("fn:lambda", (), {"boto3": "reqs#boto3"}, [report(10)])


def test_a_function_and_its_layers_over_the_limit_are_refused_with_each_size() -> None:
    fine = {"fn:lambda": report(1_000), "3rdparty/python:pypi": report(LIMIT - 1_000)}
    check_size("fn:lambda", fine)

    over = {"fn:lambda": report(2_000_000), "3rdparty/python:pypi": report(LIMIT, ("numpy", "2.2.6", LIMIT))}
    with pytest.raises(LambdaCheckFailed) as failure:
        check_size("fn:lambda", over)
    message = str(failure.value)
    assert f"unzip to {LIMIT + 2_000_000:,} bytes" in message and "over by 2.0 MB" in message
    assert "(fn:lambda 2.0 MB, 3rdparty/python:pypi 262.1 MB)" in message
    assert "Largest: numpy 2.2.6 262.1 MB" in message


def test_a_layer_over_the_limit_on_its_own_names_its_largest_distribution() -> None:
    address = Address("3rdparty/python", target_name="pypi")
    check_layer_size(address, report(LIMIT))
    with pytest.raises(LambdaCheckFailed) as failure:
        check_layer_size(address, report(LIMIT + 1, ("opencv-python-headless", "5.1.0.95", LIMIT)))
    message = str(failure.value)
    assert "3rdparty/python:pypi unzips to" in message and "no function could use it" in message
    assert "drop opencv-python-headless" in message


def test_the_warning_starts_above_its_share_and_names_the_budget_past_it() -> None:
    assert size_warning("x unzips to", int(0.89 * LIMIT)) is None
    warning = size_warning("x unzips to", int(0.92 * LIMIT))
    assert warning.startswith("x unzips to 241,172,480 bytes, 92.0% of Lambda's")
    assert "budget" not in warning
    assert "over this repository's budget of 95%" in size_warning("x unzips to", int(0.96 * LIMIT))


def test_the_size_lines_report_bytecode_exclusions_and_the_largest_distributions() -> None:
    built = report(
        100_000_000,
        ("numpy", "2.2.6", 60_000_000),
        ("boto3", "1.35.0", 1_000_000),
        bytecode_python="3.11.7",
        bytecode_bytes=5_000_000,
        bytecode_files=1234,
        bytecode_failures=["pkg/py2_only.py"],
        excluded_files=3,
        excluded_bytes=2_000,
    )
    lines = size_log_lines(built, layers_unzipped=50_000_000)
    assert lines[0].startswith(
        "    Size: 33.3 MB zipped, 100.0 MB unzipped, 150.0 MB with its layers (57.2% of"
    )
    assert lines[1] == (
        "    Bytecode: +5.0 MB unzipped, 1,234 .pyc for CPython 3.11.7 (unchecked-hash); "
        "1 sources did not compile, e.g. pkg/py2_only.py"
    )
    assert lines[2] == "    Excluded: 2.0 kB in 3 files (`exclude`)"
    assert lines[3] == "    Largest: numpy 2.2.6 60.0 MB, boto3 1.35.0 1.0 MB"
    assert "with its layers" not in size_log_lines(built)[0]
