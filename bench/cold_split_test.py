from __future__ import annotations

import json
from pathlib import Path

from bench.cold_split import process_spans, split_table


def unit(name: str, description: str, start: float, seconds: float) -> dict:
    return {
        "name": name,
        "span_id": description,
        "description": description,
        "start_secs": int(start),
        "start_nanos": int(round(start % 1 * 1e9)),
        "duration_secs": int(seconds),
        "duration_nanos": int(round(seconds % 1 * 1e9)),
    }


def test_processes_are_read_from_the_workunit_log_and_grouped_by_kind(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text(
        json.dumps(
            [
                unit("pants.engine.rules.Rule", "Build a Python AWS Lambda artifact", 100.0, 50.0),
                unit("process", "Scheduling: Zip python_aws_lambda_layer 3rdparty/python:pypi", 130.0, 16.5),
                unit("process", "Zip python_aws_lambda_function src/python/api_handler:lambda", 140.0, 0.5),
                unit("process", "Resolve python_aws_lambda_layer 3rdparty/python:pypi", 102.0, 25.0),
            ]
        )
    )

    spans = process_spans(tmp_path)
    table = split_table(spans, wall=60.0, cpu=80.0)

    assert [span.start for span in spans] == [2.0, 30.0, 40.0]
    assert (
        table[0].startswith("Cold build, per process kind")
        and "3 processes, 42.0 s of process time, from 2.0 s to 46.5 s" in table[0]
    )
    assert table[4] == "| Resolve python_aws_lambda_layer | 1 | 25.0 | 25.0 | 2.0 |"
    assert "| Zip python_aws_lambda_layer | 1 | 16.5 | 16.5 | 30.0 |" in table
    assert "| Zip python_aws_lambda_function | 1 | 0.5 | 0.5 | 40.0 |" in table
