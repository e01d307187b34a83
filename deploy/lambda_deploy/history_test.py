from __future__ import annotations

from lambda_deploy.history import new_deploy_id


def test_deploy_ids_sort_as_the_deploys_happened_even_within_one_second() -> None:
    times = [1_796_300_000.0, 1_796_300_000.000_2, 1_796_300_000.5, 1_796_300_001.0, 1_796_300_060.25]
    ids = [new_deploy_id(t) for t in times]

    assert sorted(ids) == ids
    assert ids[0].startswith("20261203T") and len(set(new_deploy_id(times[0]) for _ in range(20))) == 20
