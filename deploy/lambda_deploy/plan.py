"""The planner: reads what is deployed, compares digests, and writes the list of instructions.

A layer gets a new version only if its zip's SHA-256 differs from the `CodeSha256` of every
version of the layer; a function's code is updated only if its zip differs from the function's
`CodeSha256`; its layer list only if the desired versions, in configured order, differ from the
current list. A function whose `$LATEST` changes gets a version published, and its alias moved
there; one whose alias already points at a version the same as `$LATEST` gets nothing. A rebuild
that changed no bytes therefore plans nothing, and records no deploy.

The plan is decided here, once. apply (executor.py) carries it out and decides nothing, except
how to recover when another deploy changes a function under it: then it asks this module again
for that one function (`function_instructions`).
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, replace
from urllib.parse import urlparse

from lambda_deploy.artifacts import Artifact
from lambda_deploy.aws import (
    DIRECT_UPLOAD_LIMIT_BYTES,
    AliasState,
    Aws,
    Code,
    FunctionState,
    FunctionVersion,
    LayerVersion,
)
from lambda_deploy.config import DeployConfig, FunctionConfig, LayerConfig, creation_setting
from lambda_deploy.errors import ArtifactError, DeployError, MissingFunctionError, PlatformMismatchError
from lambda_deploy.history import Commit
from lambda_deploy.instructions import (
    FUNCTION_INSTRUCTIONS,
    CreateFunction,
    EnsureBucket,
    Instruction,
    LayerRef,
    PointAlias,
    PublishLayer,
    PublishVersion,
    RecordDeploy,
    SetLayers,
    SetSnapStart,
    ShiftTraffic,
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
    # `$LATEST` and the published versions, oldest first (none for a function to be created).
    versions: tuple[FunctionVersion, ...] = ()
    alias: AliasState | None = None  # None: no alias yet

    @property
    def latest(self) -> FunctionVersion | None:
        return next((v for v in self.versions if v.version == "$LATEST"), None)

    @property
    def published(self) -> list[FunctionVersion]:
        return [v for v in self.versions if v.version != "$LATEST"]

    def version_of_latest(self) -> FunctionVersion | None:
        """A published version that holds what `$LATEST` holds, if any: the alias' own if it
        does (so that the alias never moves between equal versions), else the newest."""
        latest = self.latest
        same = [v for v in self.published if latest is not None and v.same_as(latest)]
        on_alias = [v for v in same if self.alias is not None and v.version == self.alias.function_version]
        return (on_alias or same[-1:] or [None])[0]

    def alias_version(self) -> FunctionVersion | None:
        if self.alias is None:
            return None
        return next((v for v in self.published if v.version == self.alias.function_version), None)


@dataclass(frozen=True)
class Plan:
    target: DeployTarget
    config: DeployConfig
    layers: tuple[LayerStatus, ...]
    functions: tuple[FunctionStatus, ...]
    instructions: tuple[Instruction, ...]
    deploy_id: str | None = None  # the history record's id, if this plan records one
    # What a function that lost a race gets planned again to: its artifact and layers (apply),
    # or the version a rollback restores (rollback.py).
    kind: str = "apply"

    @property
    def changes_anything(self) -> bool:
        return bool(self.instructions)

    def for_function(self, name: str) -> list[Instruction]:
        return [i for i in self.instructions if isinstance(i, FUNCTION_INSTRUCTIONS) and i.subject == name]


def read_function(aws: Aws, status: FunctionStatus, alias: str) -> FunctionStatus:
    """The function's versions and alias, read beside its state."""
    if status.current is None:
        return status
    return replace(
        status,
        versions=tuple(aws.function_versions(status.function.name)),
        alias=aws.alias(status.function.name, alias),
    )


@dataclass(frozen=True)
class Recording:
    """How a deploy that changes anything is recorded in the history (history.py)."""

    deploy_id: str
    commit: Commit
    promoted_from: str | None = None  # `ENV:DEPLOY_ID` for a promotion (promote.py)


def make_plan(
    config: DeployConfig,
    artifacts: dict[str, Artifact],
    aws: Aws,
    target: DeployTarget,
    recording: Recording | None = None,
) -> Plan:
    """Reads the current state; changes nothing. With `recording`, a plan that changes anything
    ends by writing the deploy's record."""
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
        functions.append(read_function(aws, FunctionStatus(function, artifact, current), config.alias))

    function_steps: list[Instruction] = []
    for status in functions:
        refs = tuple(layers[key].ref for key in status.function.layers)
        function_steps += function_instructions(status, refs, staging)
    check_alarms(config, aws, function_steps)
    record: list[Instruction] = []
    if (publishing or function_steps) and recording is not None:
        staging.require_bucket("the deploy history")
        key = f"{config.history_folder}{recording.deploy_id}.json"
        record.append(
            RecordDeploy(
                recording.deploy_id,
                config.bucket,
                key,
                recording.commit,
                config.environment,
                kind="promote" if recording.promoted_from else "apply",
                promoted_from=recording.promoted_from,
            )
        )
    instructions = staging.instructions(target) + publishing + function_steps + record
    return Plan(
        target,
        config,
        tuple(layers.values()),
        tuple(functions),
        tuple(instructions),
        recording.deploy_id if record and recording else None,
    )


def check_alarms(config: DeployConfig, aws: Aws, steps: list[Instruction]) -> None:
    """Every alarm a rollout will watch must exist: a typo would otherwise never fire."""
    wanted = sorted(
        {alarm for step in steps if isinstance(step, ShiftTraffic) for alarm in step.function.alarms}
    )
    if not wanted:
        return
    missing = [name for name in wanted if name not in aws.alarm_states(tuple(wanted))]
    if missing:
        raise DeployError(
            f"The CloudWatch alarm(s) {', '.join(missing)}, which a rollout watches (`alarms` in "
            f"{config.path}), do not exist in {config.region}. Create them, or fix the names. "
            f"Nothing was changed."
        )


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
    """What it takes to bring one function to its artifact and layers, and its alias to a version
    that holds them."""
    function, artifact, current = status.function, status.artifact, status.current
    alias = staging.config.alias
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
            ),
            PublishVersion(function, artifact.code_sha256),
            PointAlias(function, alias, None, None),
        ]
    steps: list[Instruction] = []
    code_sha256 = current.code_sha256
    if artifact is not None and current.code_sha256 != artifact.code_sha256:
        steps.append(UpdateCode(function, artifact, staging.code(artifact, f"functions/{function.name}")))
        code_sha256 = artifact.code_sha256
    wanted = tuple(ref.version.arn if ref.version else None for ref in layers)
    if current.layer_arns != wanted:
        steps.append(SetLayers(function, layers, current.layer_arns))
    if function.snapstart is not None and current.snapstart != function.snapstart:
        steps.append(SetSnapStart(function, function.snapstart))
    # $LATEST as it will be: a new version for it, unless one already holds it.
    existing = None if steps else status.version_of_latest()
    if existing is None:
        steps += [PublishVersion(function, code_sha256), move_alias(status, alias, None)]
    elif (
        status.alias is None
        or status.alias.function_version != existing.version
        or status.alias.additional_weights
    ):
        steps.append(move_alias(status, alias, existing))
    return steps


def move_alias(status: FunctionStatus, alias: str, version: FunctionVersion | None) -> Instruction:
    """Step by step if the function has a gradual rollout and there is a version to move away
    from; else at once (a new alias has no traffic to protect)."""
    current = status.alias
    if status.function.rollout.gradual and current is not None:
        if version is None or version.version != current.function_version:
            return ShiftTraffic(status.function, alias, version, current)
    return PointAlias(status.function, alias, version, current)


def rollback_instructions(status: FunctionStatus, alias: str, version: FunctionVersion) -> list[Instruction]:
    """A rollback's one step for a function: its alias, with all its traffic, to `version`,
    unless it is there already."""
    current = status.alias
    if current is not None and current.function_version == version.version and not current.additional_weights:
        return []
    return [PointAlias(status.function, alias, version, current)]


class Staging:
    """Where Lambda takes each zip from: the request itself, or over 50 MB, an S3 copy, which
    is uploaded only if it is not there already."""

    def __init__(self, config: DeployConfig, aws: Aws) -> None:
        self.config, self.aws = config, aws
        self.uploads: dict[str, UploadToS3] = {}
        self._bucket_exists: bool | None = None
        self._bucket_needed_for: str | None = None  # besides uploads: e.g. the deploy history

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

    def require_bucket(self, what: str) -> None:
        self._bucket_needed_for = what
        if self._bucket_exists is None:
            self._bucket_exists = self.aws.bucket_exists(self.config.bucket)

    def instructions(self, target: DeployTarget) -> list[Instruction]:
        if not self.uploads and self._bucket_needed_for is None:
            return []
        steps: list[Instruction] = []
        if not self._bucket_exists:
            if not target.creates_missing:
                uses = ["artifacts over 50 MB are published from it"] if self.uploads else []
                uses += [f"it keeps {self._bucket_needed_for}"] if self._bucket_needed_for else []
                raise DeployError(
                    f"The S3 bucket {self.config.bucket!r} ([s3] bucket in {self.config.path}) does "
                    f"not exist in {self.config.region}; {' and '.join(uses)}. "
                    f"Create it, or name an existing bucket there. Nothing was changed."
                )
            steps.append(EnsureBucket(self.config.bucket))
        return steps + list(self.uploads.values())
