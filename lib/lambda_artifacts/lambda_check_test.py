from pathlib import Path

import pytest
from lambda_artifacts.lambda_check import check_size

LIMIT = 1_000_000
LAYER, FUNCTION = Path("pypi.zip"), Path("lambda.zip")


def test_within_the_budget_passes_and_says_how_full() -> None:
    description, problems = check_size({LAYER: 900_000, FUNCTION: 50_000}, LIMIT, 0.95)

    assert problems == []
    assert description == "fits Lambda's unzipped limit, 95.0% of it (budget 95%)"


@pytest.mark.parametrize(
    "layer, why",
    [
        (910_000, "over this repository's budget of 95% by 10,000 bytes (BUDGET_SHARE_OF_LIMIT in "),
        (960_000, "limit for a function and all its layers, over by 10.0 kB: Lambda would refuse it"),
    ],
)
def test_past_the_budget_or_the_limit_names_each_zip_the_excess_and_the_fix(layer: int, why: str) -> None:
    _, (problem,) = check_size({LAYER: layer, FUNCTION: 50_000}, LIMIT, 0.95)

    assert why in problem
    assert f"(pypi.zip {layer / 1e3:.1f} kB, lambda.zip 50.0 kB)" in problem
    assert "the layer's `exclude`" in problem
