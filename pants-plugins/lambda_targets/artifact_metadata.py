"""What a built artifact says about itself: its `.metadata.json` and the lines `package` prints.

Pure functions of what the build produced (the zip step's report, the platform, the layers), so
that they are unit-tested without running a build. lib/lambda_artifacts/metadata.py reads the
file back for the deploy tool; METADATA_VERSION there says which fields it may expect.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from lambda_artifacts.metadata import AWS_HANDLER, METADATA_VERSION
from lambda_targets.checks import size_log_lines
from lambda_targets.platforms import LambdaPlatform


@dataclass(frozen=True)
class LayerSummary:
    address: str
    output_filename: str  # relative to the dist folder
    unzipped_bytes: int


@dataclass(frozen=True)
class BuiltArtifactFacts:
    """What one artifact's build produced, as its metadata and log lines need it."""

    address: str
    target_alias: str
    kind: str  # "function" or "layer"
    output_filename: str  # relative to the dist folder
    platform: LambdaPlatform | None  # None for user-supplied complete platforms
    handler_source: str | None  # `module:function` as written in BUILD; None for a layer
    layers: tuple[LayerSummary, ...]
    report: dict  # the zip step's report

    @property
    def unzipped_bytes_with_layers(self) -> int:
        return self.report["unzipped_bytes"] + sum(layer.unzipped_bytes for layer in self.layers)


def artifact_metadata(facts: BuiltArtifactFacts, repository_functions: dict[str, list[str]]) -> dict:
    """The `.metadata.json` beside the zip. `repository_functions`: every function in the
    repository with its layers, so that a deploy that finds only some artifacts built (CI builds
    what changed) still knows every function, and which ones use a layer it publishes."""
    platform, report = facts.platform, facts.report
    return {
        "version": METADATA_VERSION,
        "address": facts.address,
        "target_type": facts.target_alias,
        "kind": facts.kind,
        "artifact": os.path.basename(facts.output_filename),
        "runtime": platform.runtime if platform else None,
        "architecture": platform.architecture if platform else None,
        "handler": AWS_HANDLER if facts.handler_source else None,
        "handler_source": facts.handler_source,
        "layers": [layer.address for layer in facts.layers],
        # Relative to the dist folder, like the zip's own path.
        "layer_artifacts": [layer.output_filename for layer in facts.layers],
        "sha256": report["sha256"],
        "zipped_bytes": report["zipped_bytes"],
        "unzipped_bytes": report["unzipped_bytes"],
        "unzipped_bytes_with_layers": facts.unzipped_bytes_with_layers,
        "repository_functions": repository_functions,
    }


def metadata_bytes(metadata: dict) -> bytes:
    """Sorted keys and a final newline: the same build writes the same bytes."""
    return (json.dumps(metadata, indent=2, sort_keys=True) + "\n").encode()


def artifact_log_lines(
    facts: BuiltArtifactFacts, complete_platforms: tuple[str, ...], size_warning: str | None
) -> list[str]:
    """The lines `package` prints under the artifact's path, every time it is packaged."""
    lines = []
    if facts.platform is not None:
        lines.append(f"    Runtime: {facts.platform.runtime} {facts.platform.architecture}")
    else:
        lines.extend(f"    Complete platform: {path}" for path in complete_platforms)
    if facts.handler_source is not None:
        lines.append(f"    Handler: {AWS_HANDLER}")
    if facts.layers:
        lines.append(
            "    Layers: " + ", ".join(f"{layer.address} ({layer.output_filename})" for layer in facts.layers)
        )
    if size_warning:
        lines.append(f"    WARNING: {size_warning}")
    layers_unzipped = sum(layer.unzipped_bytes for layer in facts.layers) if facts.layers else None
    lines.extend(size_log_lines(facts.report, layers_unzipped))
    return lines
