import pytest
from lambda_artifacts import size_limit
from lambda_artifacts.size_limit import (
    OK,
    OVER,
    OVER_BUDGET,
    WARN,
    UnzippedSize,
    headroom,
    human_size,
    largest_distributions,
    share_of_limit,
)


@pytest.mark.parametrize(
    "total, expected",
    [
        (246_100_000, "16.0 MB headroom"),
        (262_144_000, "0 B headroom"),
        (264_144_000, "over by 2.0 MB"),
        (262_144_500, "over by 500 B"),
    ],
)
def test_headroom_past_the_limit_reads_over_by(total: int, expected: str) -> None:
    assert headroom(total) == expected


def test_human_size_keeps_its_sign() -> None:
    # headroom() never passes it a negative size; other callers may.
    assert human_size(-2_500_000) == "-2.5 MB"


@pytest.mark.parametrize(
    "total, status",
    [(0, OK), (900, OK), (901, WARN), (950, WARN), (951, OVER_BUDGET), (1_000, OVER_BUDGET), (1_001, OVER)],
)
def test_the_status_warns_above_90_percent_and_fails_past_the_budget_and_the_limit(
    total: int, status: str
) -> None:
    assert UnzippedSize({"fn": total}, limit=1_000, budget=0.95).status == status


def test_the_limit_and_budget_are_read_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    size = UnzippedSize({"fn": 2_000})
    assert size.status == OK
    monkeypatch.setattr(size_limit, "UNZIPPED_LIMIT_BYTES", 1_000)
    assert size.status == OVER


def test_the_description_names_each_part_the_share_and_the_excess() -> None:
    size = UnzippedSize({"fn": 2_000, "pypi": 1_000_000}, limit=1_000_000)

    assert size.describe() == (
        "1,002,000 bytes (fn 2.0 kB, pypi 1.0 MB), 100.2% of Lambda's 1,000,000-byte limit for a "
        "function and all its layers, over by 2.0 kB"
    )
    assert UnzippedSize({"pypi": 10}).describe().startswith("10 bytes, <0.1% of Lambda's 262,144,000-byte")


def test_share_of_limit_never_rounds_a_small_artifact_to_nothing() -> None:
    assert share_of_limit(246_100_000) == "93.9%"
    assert share_of_limit(14_000) == "<0.1%"
    assert share_of_limit(0) == "0.0%"
    assert share_of_limit(1_100, limit=1_000) == "110.0%"


def test_largest_distributions_are_named_with_version_and_size() -> None:
    distributions = [
        {"name": "numpy", "version": "2.2.6", "unzipped_bytes": 58_600_000},
        {"name": "handler.py", "version": None, "unzipped_bytes": 1_200},
        {"name": "opencv-python-headless", "version": "5.0.0.93", "unzipped_bytes": 150_300_000},
    ]

    assert largest_distributions(distributions, count=2) == [
        "opencv-python-headless 5.0.0.93 150.3 MB",
        "numpy 2.2.6 58.6 MB",
    ]
    assert largest_distributions(distributions)[-1] == "handler.py 1.2 kB"
