"""Plan, then apply: what a deploy would change, decided by comparing digests.

A layer gets a new version only if its zip's SHA-256 differs from the `CodeSha256` of the
layer's latest version; a function's code is updated only if its zip differs from the
function's `CodeSha256`; its layer list only if the desired versions, in configured order,
differ from the current list. A rebuild that changed no bytes therefore changes nothing.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from urllib.parse import urlparse

from lambda_deploy.artifacts import Artifact
from lambda_deploy.aws import DIRECT_UPLOAD_LIMIT_BYTES, Aws, FunctionState, LayerVersion
from lambda_deploy.config import DeployConfig, FunctionConfig, LayerConfig
from lambda_deploy.errors import ArtifactError, MissingFunctionError

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
class LayerStep:
    layer: LayerConfig
    artifact: Artifact | None  # None: not built this time (--skip-missing); keep what is deployed
    latest: LayerVersion | None

    @property
    def publish(self) -> bool:
        if self.artifact is None:
            return False
        return self.latest is None or self.latest.code_sha256 != self.artifact.code_sha256

    @property
    def via_s3(self) -> bool:
        return self.artifact is not None and needs_s3(self.artifact)


@dataclass(frozen=True)
class FunctionStep:
    function: FunctionConfig
    artifact: Artifact | None  # None: not built this time (--skip-missing); keep its code
    current: FunctionState | None  # None: it does not exist yet, and will be created
    desired_layers: tuple[LayerStep, ...]

    @property
    def create(self) -> bool:
        return self.current is None

    @property
    def update_code(self) -> bool:
        if self.artifact is None or self.current is None:
            return False
        return self.current.code_sha256 != self.artifact.code_sha256

    @property
    def update_layers(self) -> bool:
        if self.current is None:
            return False  # created with its layers
        if any(step.publish for step in self.desired_layers):
            return True
        return self.current.layer_arns != tuple(
            step.latest.arn for step in self.desired_layers if step.latest
        )

    @property
    def via_s3(self) -> bool:
        return self.artifact is not None and needs_s3(self.artifact)


@dataclass(frozen=True)
class Plan:
    target: DeployTarget
    config: DeployConfig
    layers: tuple[LayerStep, ...]
    functions: tuple[FunctionStep, ...]

    @property
    def changes_anything(self) -> bool:
        return any(s.publish for s in self.layers) or any(
            f.create or f.update_code or f.update_layers for f in self.functions
        )

    @property
    def uses_s3(self) -> bool:
        return any(s.publish and s.via_s3 for s in self.layers) or any(
            (f.create or f.update_code) and f.via_s3 for f in self.functions
        )


def make_plan(config: DeployConfig, artifacts: dict[str, Artifact], aws: Aws, target: DeployTarget) -> Plan:
    """Reads the current state; changes nothing."""
    layer_steps = {}
    for key, layer in config.layers.items():
        latest = aws.latest_layer_version(layer.name)
        logger.debug("Layer %s: latest %s", layer.name, latest)
        artifact = artifacts.get(f"layer:{key}")
        if artifact is None and latest is None:
            raise ArtifactError(
                f"Layer {layer.name} has no published version yet, and its artifact was not built. "
                f"Build it (`./pants package {key}`), then rerun. Nothing was changed."
            )
        layer_steps[key] = LayerStep(layer, artifact, latest)

    function_steps = []
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
        if current is None and artifact is None:
            raise ArtifactError(
                f"Function {name!r} must be created, but its artifact was not built. Build it "
                f"(`./pants package {function.address}`), then rerun. Nothing was changed."
            )
        function_steps.append(
            FunctionStep(
                function=function,
                artifact=artifact,
                current=current,
                desired_layers=tuple(layer_steps[key] for key in function.layers),
            )
        )
    return Plan(target, config, tuple(layer_steps.values()), tuple(function_steps))
