"""The steps a plan is made of, in the order apply carries them out.

Like AWS Chalice's planner and executor (chalice/deploy/planner.py, executor.py): the planner
reads AWS once and decides everything; each instruction records what it will change and why, so
that `plan` can show the list, `--json` can hand it to a machine, and apply only carries it out.
The one thing apply decides again is how to recover from a lost race (see executor.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from lambda_artifacts.size_limit import human_size
from lambda_deploy.artifacts import Artifact
from lambda_deploy.aws import Code, LayerVersion
from lambda_deploy.config import FunctionConfig, LayerConfig


@dataclass(frozen=True)
class LayerRef:
    """A layer version a function is to use: one that exists, or the one this plan publishes."""

    layer: LayerConfig
    version: LayerVersion | None  # None: published by a PublishLayer earlier in the plan

    def describe(self) -> str:
        return f"{self.layer.name}:{self.version.version if self.version else '(new)'}"


@dataclass(frozen=True)
class EnsureBucket:
    """Creates the artifacts bucket (only on the local emulator; on AWS it must exist)."""

    bucket: str

    @property
    def subject(self) -> str:
        return f"s3://{self.bucket}"

    def describe(self) -> str:
        return f"create the bucket s3://{self.bucket}"


@dataclass(frozen=True)
class UploadToS3:
    """Copies a zip over Lambda's 50 MB direct-upload limit to S3, under a key named by its
    SHA-256, so that a copy an earlier run made is found and not repeated."""

    artifact: Artifact
    bucket: str
    key: str

    @property
    def subject(self) -> str:
        return str(self.artifact.path)

    def describe(self) -> str:
        return f"upload {self.artifact.path} ({human_size(self.artifact.zipped_bytes)}) to s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class PublishLayer:
    layer: LayerConfig
    artifact: Artifact
    code: Code
    latest: LayerVersion | None  # what the plan found, for the reason it gives

    @property
    def subject(self) -> str:
        return self.layer.name

    def describe(self) -> str:
        source = "from S3" if self.code.s3_key else f"{human_size(self.artifact.zipped_bytes)} zip, direct"
        why = f"latest is version {self.latest.version}, other bytes" if self.latest else "no version yet"
        return f"publish layer {self.layer.name} ({source}; {why})"


@dataclass(frozen=True)
class CreateFunction:
    """Creates a function with its code and layers (only on the local emulator)."""

    function: FunctionConfig
    artifact: Artifact
    code: Code
    layers: tuple[LayerRef, ...]
    memory_mb: int
    timeout_seconds: int

    @property
    def subject(self) -> str:
        return self.function.name

    def describe(self) -> str:
        layers = ", ".join(ref.describe() for ref in self.layers)
        return (
            f"create function {self.function.name} ({self.function.runtime}, {self.memory_mb} MB, "
            f"{self.timeout_seconds} s, layers [{layers}])"
        )


@dataclass(frozen=True)
class UpdateCode:
    function: FunctionConfig
    artifact: Artifact
    code: Code

    @property
    def subject(self) -> str:
        return self.function.name

    def describe(self) -> str:
        return f"update the code of {self.function.name} from {self.artifact.path}"


@dataclass(frozen=True)
class SetLayers:
    function: FunctionConfig
    layers: tuple[LayerRef, ...]
    current: tuple[str, ...]  # the layer version ARNs the plan found, for the reason it gives

    @property
    def subject(self) -> str:
        return self.function.name

    def describe(self) -> str:
        layers = ", ".join(ref.describe() for ref in self.layers)
        before = ", ".join(short_layer_arn(arn) for arn in self.current)
        return f"set the layers of {self.function.name} to [{layers}] (now [{before}])"


Instruction = Union[EnsureBucket, UploadToS3, PublishLayer, CreateFunction, UpdateCode, SetLayers]


def short_layer_arn(arn: str) -> str:
    """`arn:aws:lambda:...:layer:test-pypi:3` -> `test-pypi:3`."""
    return ":".join(arn.rsplit(":", 2)[1:])


# What a function's instructions act on; everything else comes before them.
FUNCTION_INSTRUCTIONS = (CreateFunction, UpdateCode, SetLayers)


def action(instruction: Instruction) -> str:
    """`PublishLayer` -> `publish_layer`: the instruction's name in --json."""
    name = type(instruction).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def as_json(instruction: Instruction) -> dict[str, Any]:
    fields: dict[str, Any] = {"action": action(instruction), "subject": instruction.subject}
    if isinstance(instruction, (UploadToS3, PublishLayer, CreateFunction, UpdateCode)):
        fields["artifact"] = str(instruction.artifact.path)
        fields["sha256"] = instruction.artifact.sha256_hex
    if isinstance(instruction, (CreateFunction, SetLayers)):
        fields["layers"] = [ref.describe() for ref in instruction.layers]
    if isinstance(instruction, UploadToS3):
        fields["s3_uri"] = f"s3://{instruction.bucket}/{instruction.key}"
    fields["description"] = instruction.describe()
    return fields
