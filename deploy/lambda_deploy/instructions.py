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
from lambda_deploy.aws import AliasState, Code, FunctionVersion, LayerVersion
from lambda_deploy.config import FunctionConfig, LayerConfig
from lambda_deploy.history import Commit


@dataclass(frozen=True)
class LayerRef:
    """A layer version a function is to use: one that exists, or the one this plan publishes."""

    layer: LayerConfig
    version: LayerVersion | None  # None: published by a PublishLayer earlier in the plan

    def describe(self) -> str:
        return f"{self.layer.name}:{self.version.version if self.version else '(new)'}"


class FunctionStep:
    """An instruction about one function, which it is named by (the progress report, the
    per-function chains of apply)."""

    function: FunctionConfig

    @property
    def subject(self) -> str:
        return self.function.name


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
class CreateFunction(FunctionStep):
    """Creates a function with its code and layers (only on the local emulator)."""

    function: FunctionConfig
    artifact: Artifact
    code: Code
    layers: tuple[LayerRef, ...]
    memory_mb: int
    timeout_seconds: int

    def describe(self) -> str:
        layers = ", ".join(ref.describe() for ref in self.layers)
        return (
            f"create function {self.function.name} ({self.function.runtime}, {self.memory_mb} MB, "
            f"{self.timeout_seconds} s, layers [{layers}])"
        )


@dataclass(frozen=True)
class UpdateCode(FunctionStep):
    function: FunctionConfig
    artifact: Artifact
    code: Code

    def describe(self) -> str:
        return f"update the code of {self.function.name} from {self.artifact.path}"


@dataclass(frozen=True)
class SetLayers(FunctionStep):
    function: FunctionConfig
    layers: tuple[LayerRef, ...]
    current: tuple[str, ...]  # the layer version ARNs the plan found, for the reason it gives

    def describe(self) -> str:
        layers = ", ".join(ref.describe() for ref in self.layers)
        before = ", ".join(short_layer_arn(arn) for arn in self.current)
        return f"set the layers of {self.function.name} to [{layers}] (now [{before}])"


@dataclass(frozen=True)
class SetSnapStart(FunctionStep):
    """Turns SnapStart on (or off) for the function's published versions, before the next one."""

    function: FunctionConfig
    enabled: bool

    def describe(self) -> str:
        return f"turn SnapStart {'on' if self.enabled else 'off'} for the published versions of {self.function.name}"


@dataclass(frozen=True)
class PublishVersion(FunctionStep):
    """Publishes the function's `$LATEST`, as the instructions before it leave it, as a version:
    what the alias then points at. Lambda publishes only if the code is still the one this deploy
    put there (CodeSha256) and nothing changed since it read the function (RevisionId)."""

    function: FunctionConfig
    code_sha256: str  # what $LATEST's code will be: the artifact's, or what is deployed

    def describe(self) -> str:
        return f"publish a version of {self.function.name} (code {self.code_sha256[:12]}...)"


@dataclass(frozen=True)
class PointAlias(FunctionStep):
    """Moves the function's alias, with all its traffic, to a version: the one this plan
    publishes, or one that already holds exactly what $LATEST holds."""

    function: FunctionConfig
    alias: str
    version: FunctionVersion | None  # None: the version PublishVersion publishes just before
    current: AliasState | None  # None: the alias does not exist yet

    def describe(self) -> str:
        target = f"version {self.version.version}" if self.version else "the new version"
        if self.current is None:
            return f"create the alias {self.function.name}:{self.alias} at {target}"
        weighted = " and its weighted traffic" if self.current.additional_weights else ""
        return (
            f"point {self.function.name}:{self.alias} at {target} "
            f"(now version {self.current.function_version}{weighted})"
        )


@dataclass(frozen=True)
class ShiftTraffic(FunctionStep):
    """Moves the alias to a version step by step (rollout.py), polling `alarms` while traffic is
    split; moves it back, with all its traffic, as soon as one is in ALARM."""

    function: FunctionConfig
    alias: str
    version: FunctionVersion | None  # None: the version PublishVersion publishes just before
    current: AliasState  # the alias, on the version traffic shifts away from

    def describe(self) -> str:
        target = f"version {self.version.version}" if self.version else "the new version"
        alarms = ", ".join(self.function.alarms) or "no alarms"
        return (
            f"shift {self.function.name}:{self.alias} from version {self.current.function_version} to "
            f"{target}, {self.function.rollout.describe()}, watching {alarms}"
        )


@dataclass(frozen=True)
class RecordDeploy:
    """Writes what this deploy deployed to the history (history.py), after everything else: a
    record exists only for a deploy that finished."""

    deploy_id: str
    bucket: str
    key: str
    commit: Commit
    environment: str
    kind: str = "apply"  # or "rollback", "promote"
    rolled_back_to: str | None = None
    promoted_from: str | None = None

    @property
    def subject(self) -> str:
        return self.deploy_id

    def describe(self) -> str:
        return f"record deploy {self.deploy_id} ({self.commit.describe()}) in s3://{self.bucket}/{self.key}"


Instruction = Union[
    EnsureBucket,
    UploadToS3,
    PublishLayer,
    CreateFunction,
    UpdateCode,
    SetLayers,
    SetSnapStart,
    PublishVersion,
    PointAlias,
    ShiftTraffic,
    RecordDeploy,
]


def short_layer_arn(arn: str) -> str:
    """`arn:aws:lambda:...:layer:test-pypi:3` -> `test-pypi:3`."""
    return ":".join(arn.rsplit(":", 2)[1:])


# What a function's instructions act on; everything else comes before them.
FUNCTION_INSTRUCTIONS = (FunctionStep,)
# What runs after every function's instructions.
LAST_INSTRUCTIONS = (RecordDeploy,)


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
    if isinstance(instruction, (UploadToS3, RecordDeploy)):
        fields["s3_uri"] = f"s3://{instruction.bucket}/{instruction.key}"
    if isinstance(instruction, ShiftTraffic):
        fields["rollout"] = instruction.function.rollout.describe()
        fields["alarms"] = list(instruction.function.alarms)
    if isinstance(instruction, (PointAlias, ShiftTraffic)):
        fields["alias"] = instruction.alias
        fields["version"] = instruction.version.version if instruction.version else None
    fields["description"] = instruction.describe()
    return fields
