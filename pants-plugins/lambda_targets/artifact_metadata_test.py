"""The metadata file and log lines of a built artifact, from a zip-step report alone."""

from __future__ import annotations

import json

from lambda_artifacts.metadata import AWS_HANDLER, METADATA_VERSION
from lambda_targets.artifact_metadata import (
    BuiltArtifactFacts,
    LayerSummary,
    artifact_log_lines,
    artifact_metadata,
    metadata_bytes,
)
from lambda_targets.platforms import LambdaPlatform

REPORT = {
    "sha256": "ab" * 32,
    "zipped_bytes": 1_000,
    "unzipped_bytes": 3_000,
    "distributions": [{"name": "<first-party>", "version": None, "unzipped_bytes": 3_000}],
}
LAYERS = (
    LayerSummary("3rdparty/python:pypi", "3rdparty.python/pypi.zip", 200_000_000),
    LayerSummary("3rdparty/python:framework", "3rdparty.python/framework.zip", 40_000),
)


def function(**changes) -> BuiltArtifactFacts:
    facts = dict(
        address="src/python/api:lambda",
        target_alias="python_aws_lambda_function",
        kind="function",
        output_filename="src.python.api/lambda.zip",
        platform=LambdaPlatform("python3.11", "x86_64"),
        handler_source="api.handler:handle",
        layers=LAYERS,
        report=REPORT,
    )
    return BuiltArtifactFacts(**{**facts, **changes})


def test_a_functions_metadata_names_its_platform_handler_layers_and_sizes() -> None:
    repository = {"src/python/api:lambda": ["3rdparty/python:pypi", "3rdparty/python:framework"]}
    metadata = artifact_metadata(function(), repository)
    assert metadata == {
        "version": METADATA_VERSION,
        "address": "src/python/api:lambda",
        "target_type": "python_aws_lambda_function",
        "kind": "function",
        "artifact": "lambda.zip",
        "runtime": "python3.11",
        "architecture": "x86_64",
        "handler": AWS_HANDLER,
        "handler_source": "api.handler:handle",
        "layers": ["3rdparty/python:pypi", "3rdparty/python:framework"],
        "layer_artifacts": ["3rdparty.python/pypi.zip", "3rdparty.python/framework.zip"],
        "sha256": "ab" * 32,
        "zipped_bytes": 1_000,
        "unzipped_bytes": 3_000,
        "unzipped_bytes_with_layers": 200_043_000,
        "repository_functions": repository,
    }
    assert AWS_HANDLER == "lambda_function.handler"


def test_a_layer_has_no_handler_and_complete_platforms_no_runtime() -> None:
    layer = function(kind="layer", handler_source=None, layers=(), platform=None)
    metadata = artifact_metadata(layer, {})
    assert (metadata["handler"], metadata["runtime"], metadata["architecture"]) == (None, None, None)
    assert metadata["unzipped_bytes_with_layers"] == 3_000


def test_the_metadata_bytes_are_the_same_whatever_order_the_fields_came_in() -> None:
    metadata = artifact_metadata(function(), {})
    reordered = dict(reversed(list(metadata.items())))
    assert metadata_bytes(metadata) == metadata_bytes(reordered)
    assert json.loads(metadata_bytes(metadata)) == metadata
    assert metadata_bytes(metadata).endswith(b"}\n")


def test_the_log_lines_name_runtime_handler_layers_then_the_warning_and_sizes() -> None:
    lines = artifact_log_lines(function(), (), "close to the limit")
    assert lines[:4] == [
        "    Runtime: python3.11 x86_64",
        f"    Handler: {AWS_HANDLER}",
        "    Layers: 3rdparty/python:pypi (3rdparty.python/pypi.zip), "
        "3rdparty/python:framework (3rdparty.python/framework.zip)",
        "    WARNING: close to the limit",
    ]
    assert lines[4].startswith("    Size: 1.0 kB zipped, 3.0 kB unzipped, 200.0 MB with its layers")


def test_user_supplied_complete_platforms_are_listed_instead_of_a_runtime() -> None:
    lines = artifact_log_lines(
        function(platform=None, handler_source=None, layers=()), ("platforms/al2.json",), None
    )
    assert lines[0] == "    Complete platform: platforms/al2.json"
    assert not any(line.startswith(("    Handler", "    Layers", "    WARNING")) for line in lines)
