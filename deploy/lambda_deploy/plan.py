"""The planner: reads what is deployed, compares digests, and writes the list of instructions.

A layer gets a new version only if its zip's SHA-256 differs from the `CodeSha256` of the
layer's latest version; a function's code is updated only if its zip differs from the
function's `CodeSha256`; its layer list only if the desired versions, in configured order,
differ from the current list. A rebuild that changed no bytes therefore plans nothing.

The plan is decided here, once. apply (executor.py) carries it out and decides nothing, except
how to recover when another deploy changes a function under it: then it asks this module again
for that one function (`function_instructions`).
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from urllib.parse import urlparse

from lambda_deploy.artifacts import Artifact
from lambda_deploy.aws import DIRECT_UPLOAD_LIMIT_BYTES, Aws, Code, FunctionState, LayerVersion
from lambda_deploy.config import DeployConfig, FunctionConfig, LayerConfig, creation_setting
from lambda_deploy.errors import ArtifactError, DeployError, MissingFunctionError, PlatformMismatchError
from lambda_deploy.instructions import (
    FUNCTION_INSTRUCTIONS,
    CreateFunction,
    EnsureBucket,
    Instruction,
    LayerRef,
    PublishLayer,
    SetLayers,
    UpdateCode,
    UploadToS3,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeployTarget:
    """Where a deploy goes, and what that place allows."""

    description: str
    endpoint_url: str | None
    # Only the local emulator: the tool creates missing functions (and the S3 bucket) there.
    creates_missing: bool

    @property
    def is_loopback(self) -> bool:
        if self.endpoint_url is None:
            return False
        host = urlparse(self.endpoint_url).hostname or ""
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    @property
    def allows_sample_framework(self) -> bool:
        return self.creates_missing or self.is_loopback


def needs_s3(artifact: Artifact) -> bool:
    return artifact.zipped_bytes > DIRECT_UPLOAD_LIMIT_BYTES


@dataclass(frozen=True)
class LayerStatus:
    """What the planner found for one layer."""

    layer: LayerConfig
    artifact: Artifact | None  # None: not built this time (--skip-missing); keep what is deployed
    latest: LayerVersion | None
    ref: LayerRef  # the version functions are to use

    @property
    def publish(self) -> bool:
        return self.ref.version is None

    @property
    def via_s3(self) -> bool:
        return self.artifact is not None and needs_s3(self.artifact)


@dataclass(frozen=True)
class FunctionStatus:
    """What the planner found for one function."""

    function: FunctionConfig
    artifact: Artifact | None  # None: not built this time (--skip-missing); keep its code
    current: FunctionState | None  # None: it does not exist yet, and will be created


@dataclass(frozen=True)
class Plan:
    target: DeployTarget
    config: DeployConfig
    layers: tuple[LayerStatus, ...]
    functions: tuple[FunctionStatus, ...]
    instructions: tuple[Instruction, ...]

    @property
    def changes_anything(self) -> bool:
        return bool(self.instructions)

    def for_function(self, name: str) -> list[Instruction]:
        return [i for i in self.instructions if isinstance(i, FUNCTION_INSTRUCTIONS) and i.subject == name]


def make_plan(config: DeployConfig, artifacts: dict[str, Artifact], aws: Aws, target: DeployTarget) -> Plan:
    """Reads the current state; changes nothing."""
    staging = Staging(config, aws)
    layers: dict[str, LayerStatus] = {}
    publishing: list[Instruction] = []
    for key, layer in config.layers.items():
        versions = aws.layer_versions(layer.name)
        latest = versions[0] if versions else None
        logger.debug("Layer %s: latest %s", layer.name, latest)
        artifact = artifacts.get(f"layer:{key}")
        if artifact is None and latest is None:
            raise ArtifactError(
                f"Layer {layer.name} has no published version yet, and its artifact was not built. "
                f"Build it (`./pants package {key}`), then rerun. Nothing was changed."
            )
        if artifact is None:
            layers[key] = LayerStatus(layer, artifact, latest, LayerRef(layer, latest))
            continue
        same = same_bytes(versions, artifact)
        if same is not None:
            layers[key] = LayerStatus(layer, artifact, latest, LayerRef(layer, same))
            continue
        publishing.append(
            PublishLayer(layer, artifact, staging.code(artifact, f"layers/{layer.name}"), latest)
        )
        layers[key] = LayerStatus(layer, artifact, latest, LayerRef(layer, None))

    functions = []
    for name, function in config.functions.items():
        current = aws.function(name)
        if current is None and not target.creates_missing:
            raise MissingFunctionError(
                f"Function {name!r} ({function.address}) does not exist in {config.region} "
                f"({target.description}). This tool only updates functions outside the local "
                f"emulator: create it with your infrastructure code (runtime {function.runtime}, "
                f"architecture {function.architecture}, handler {function.handler}), or give the "
                f'target the name of an existing function in {config.path} ([functions."'
                f'{function.address}"] name = "..."). Nothing was changed.'
            )
        artifact = artifacts.get(f"function:{name}")
        if current is not None and function.runtime is not None:
            check_platform(config, function, current)
        if current is None and artifact is None:
            raise ArtifactError(
                f"Function {name!r} must be created, but its artifact was not built. Build it "
                f"(`./pants package {function.address}`), then rerun. Nothing was changed."
            )
        functions.append(FunctionStatus(function, artifact, current))

    function_steps: list[Instruction] = []
    for status in functions:
        refs = tuple(layers[key].ref for key in status.function.layers)
        function_steps += function_instructions(status, refs, staging)
    instructions = staging.instructions(target) + publishing + function_steps
    return Plan(target, config, tuple(layers.values()), tuple(functions), tuple(instructions))


def check_platform(config: DeployConfig, function: FunctionConfig, current: FunctionState) -> None:
    """The function in AWS must run on the platform its zip and layers were built for: bytecode
    and compiled extensions for another CPython or CPU fail at the first import."""
    built = (function.runtime, function.architecture)
    running = (current.runtime, current.architecture)
    if built != running:
        raise PlatformMismatchError(
            f"Function {current.name!r} ({function.address}) runs {' '.join(map(str, running))} in "
            f"{config.region}, but its zip and layers were built for {' '.join(map(str, built))} "
            f"(the root BUILD's `__defaults__`). This tool updates code and layers only: change the "
            f"function's runtime and architecture in your infrastructure code first, then rerun. "
            f"Nothing was changed."
        )


def same_bytes(versions: list[LayerVersion], artifact: Artifact) -> LayerVersion | None:
    """The version to use for these bytes: the lowest that holds them, any version, not only the
    latest. Two deploys that publish the same bytes at once both end up on the lower one, and a
    rollback to bytes published before reuses their old version."""
    matches = [v for v in versions if v.code_sha256 == artifact.code_sha256]
    return min(matches, key=lambda v: v.version) if matches else None


def function_instructions(
    status: FunctionStatus, layers: tuple[LayerRef, ...], staging: Staging
) -> list[Instruction]:
    """What it takes to bring one function to its artifact and layers."""
    function, artifact, current = status.function, status.artifact, status.current
    if current is None:
        assert artifact is not None
        return [
            CreateFunction(
                function,
                artifact,
                staging.code(artifact, f"functions/{function.name}"),
                layers,
                memory_mb=creation_setting(staging.config, function, "memory_mb"),
                timeout_seconds=creation_setting(staging.config, function, "timeout_seconds"),
            )
        ]
    steps: list[Instruction] = []
    if artifact is not None and current.code_sha256 != artifact.code_sha256:
        steps.append(UpdateCode(function, artifact, staging.code(artifact, f"functions/{function.name}")))
    wanted = tuple(ref.version.arn if ref.version else None for ref in layers)
    if current.layer_arns != wanted:
        steps.append(SetLayers(function, layers, current.layer_arns))
    return steps


class Staging:
    """Where Lambda takes each zip from: the request itself, or over 50 MB, an S3 copy, which
    is uploaded only if it is not there already."""

    def __init__(self, config: DeployConfig, aws: Aws) -> None:
        self.config, self.aws = config, aws
        self.uploads: dict[str, UploadToS3] = {}
        self._bucket_exists: bool | None = None

    def code(self, artifact: Artifact, kind: str) -> Code:
        if not needs_s3(artifact):
            return Code(zip_bytes=artifact.content)
        bucket, key = self.config.bucket, f"{self.config.prefix}{kind}/{artifact.sha256_hex}.zip"
        if key not in self.uploads and not self._has_copy(bucket, key, artifact):
            self.uploads[key] = UploadToS3(artifact, bucket, key)
        return Code(s3_bucket=bucket, s3_key=key)

    def _has_copy(self, bucket: str, key: str, artifact: Artifact) -> bool:
        if self._bucket_exists is None:
            self._bucket_exists = self.aws.bucket_exists(bucket)
        return bool(self._bucket_exists) and self.aws.object_size(bucket, key) == artifact.zipped_bytes

    def instructions(self, target: DeployTarget) -> list[Instruction]:
        if not self.uploads:
            return []
        steps: list[Instruction] = []
        if not self._bucket_exists:
            if not target.creates_missing:
                raise DeployError(
                    f"The S3 bucket {self.config.bucket!r} ([s3] bucket in {self.config.path}) does "
                    f"not exist in {self.config.region}; artifacts over 50 MB are published from it. "
                    f"Create it, or name an existing bucket there. Nothing was changed."
                )
            steps.append(EnsureBucket(self.config.bucket))
        return steps + list(self.uploads.values())
