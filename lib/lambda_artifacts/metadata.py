"""The `.metadata.json` file `./pants package` writes beside each Lambda zip.

It says what the zip is, so that tools need not read BUILD files: the target's address and kind
(function or layer), the Lambda runtime and architecture it was built for, a function's handler
and its layers in the order Lambda applies them (with the layers' zips, relative to the dist
folder), and the zip's SHA-256 and sizes. Upstream Pants writes a file of the same name since
2.29; this one follows its spirit, with the fields the deploy tool needs.

    dist/src.python.api_handler/lambda.zip
    dist/src.python.api_handler/lambda.metadata.json
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from pathlib import Path

# The target types this repository's artifacts come from (pants-plugins/lambda_targets registers
# them under these aliases, upstream Pants' own): for tools that find them without Pants' API.
FUNCTION_TARGET_TYPE = "python_aws_lambda_function"
LAYER_TARGET_TYPE = "python_aws_lambda_layer"
LAMBDA_TARGET_TYPES = (FUNCTION_TARGET_TYPE, LAYER_TARGET_TYPE)

# What AWS is told to call, for every function whatever its own module: the build re-exports the
# function's handler as `handler` in this module (pants-plugins/lambda_targets/trees.py).
HANDLER_MODULE = "lambda_function"
AWS_HANDLER = f"{HANDLER_MODULE}.handler"

# Bumped when a field changes meaning, so that readers can refuse files they do not understand.
METADATA_VERSION = 1
SUFFIX = ".metadata.json"


def metadata_path(zip_path: str) -> str:
    """`src.python.api_handler/lambda.zip` -> `src.python.api_handler/lambda.metadata.json`."""
    stem = zip_path[: -len(".zip")] if zip_path.endswith(".zip") else zip_path
    return stem + SUFFIX


@dataclass(frozen=True, eq=False)
class ArtifactMetadata:
    path: Path  # the metadata file
    address: str
    kind: str  # "function" or "layer"
    artifact: Path  # the zip, beside the metadata file
    runtime: str | None
    architecture: str | None
    handler: str | None  # as configured in AWS, e.g. `lambda_function.handler`
    layers: tuple[str, ...]  # addresses, in Lambda's order
    layer_artifacts: tuple[Path, ...]  # the layers' zips
    sha256: str
    unzipped_bytes: int
    # Every function target in the repository when this artifact was built, with its layers.
    repository_functions: dict[str, tuple[str, ...]]
    # The function the handler re-exports, as the BUILD file names it: `api_handler.handler:handler`.
    handler_source: str | None = None

    @property
    def is_function(self) -> bool:
        return self.kind == "function"

    @property
    def handler_module(self) -> str | None:
        """The module that defines the handler: `api_handler.handler`."""
        return self.handler_source.partition(":")[0] if self.handler_source else None


class MetadataError(ValueError):
    pass


def read_metadata(path: Path, dist: Path) -> ArtifactMetadata:
    """Reads one metadata file; `dist` is the folder `./pants package` wrote to."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise MetadataError(f"{path} cannot be read ({e}). Rebuild it with `./pants package ::`.")
    if not isinstance(raw, dict) or raw.get("version") != METADATA_VERSION:
        raise MetadataError(
            f"{path} is not version {METADATA_VERSION} Lambda artifact metadata. Rebuild it with "
            f"`./pants package ::`."
        )
    try:
        return ArtifactMetadata(
            path=path,
            address=raw["address"],
            kind=raw["kind"],
            artifact=path.parent / raw["artifact"],
            runtime=raw["runtime"],
            architecture=raw["architecture"],
            handler=raw["handler"],
            layers=tuple(raw["layers"]),
            layer_artifacts=tuple(dist / posixpath.normpath(p) for p in raw["layer_artifacts"]),
            sha256=raw["sha256"],
            unzipped_bytes=raw["unzipped_bytes"],
            repository_functions={k: tuple(v) for k, v in raw["repository_functions"].items()},
            handler_source=raw.get("handler_source"),
        )
    except KeyError as e:
        raise MetadataError(f"{path} has no {e} field. Rebuild it with `./pants package ::`.")


def find_metadata(dist: Path) -> list[ArtifactMetadata]:
    """Every Lambda artifact under `dist`, in a stable order (by address)."""
    found = [read_metadata(path, dist) for path in sorted(dist.rglob(f"*{SUFFIX}"))]
    return sorted(found, key=lambda m: m.address)
