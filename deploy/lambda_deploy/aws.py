"""A thin typed facade over the Lambda and S3 calls the deploy tool makes.

Clients are created once, by the caller, and passed in. Throttling is retried by botocore's
"standard" retry mode (exponential backoff with jitter). Missing resources are recognised by
their exception class, never by message text.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from lambda_deploy.config import FunctionConfig, LayerConfig

logger = logging.getLogger(__name__)

# Lambda's limit for a zip sent in the request itself; larger ones must come from S3.
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
DIRECT_UPLOAD_LIMIT_BYTES = 50 * 1024 * 1024
# How often to ask whether a function has finished a change: what botocore's v2 waiters use
# (GetFunction every second; v1: GetFunctionConfiguration, every 5). The tests' Lambda-like front
# changes state in a fraction of that, and they poll faster.
WAIT_POLL_SECONDS = 1.0
WAIT_TIMEOUT_SECONDS = 300

RETRYING = Config(
    retries={"mode": "standard", "max_attempts": 10},
    # Publishing a 90 MB layer from S3 can take a while to answer.
    read_timeout=300,
    connect_timeout=10,
)


@dataclass(frozen=True)
class LayerVersion:
    arn: str
    version: int
    code_sha256: str
    code_size: int = 0  # bytes of its zip: what deleting it frees of Lambda's code storage


@dataclass(frozen=True)
class FunctionState:
    name: str
    code_sha256: str
    layer_arns: tuple[str, ...]
    # What the function looked like when we read it, to detect a change made by someone else
    # before we write. AWS's RevisionId where the API has one, else LastModified.
    revision_id: str | None
    last_modified: str
    # The platform AWS runs it on, which this tool never changes (infrastructure code owns it).
    runtime: str | None = None
    architecture: str | None = None
    snapstart: bool = False  # SnapStart on published versions (ApplyOn: PublishedVersions)

    @property
    def fingerprint(self) -> tuple[str | None, str, str, tuple[str, ...]]:
        return (self.revision_id, self.last_modified, self.code_sha256, self.layer_arns)


# What a published version freezes of its function's configuration, and so what makes a version
# the one `$LATEST` would publish: the code, the layers, and the settings infrastructure code owns
# (a version with older memory or environment is not current, even with the same code).
VERSIONED_SETTINGS = ("Runtime", "Handler", "MemorySize", "Timeout", "Environment", "Architectures")


@dataclass(frozen=True)
class FunctionVersion:
    """One published version of a function (or `$LATEST`), as ListVersionsByFunction gives it."""

    version: str  # "1", "2", ... or "$LATEST"
    code_sha256: str
    layer_arns: tuple[str, ...]
    settings: str  # VERSIONED_SETTINGS as canonical JSON, to compare
    code_size: int = 0  # bytes of its zip: what deleting it frees of Lambda's code storage

    def same_as(self, other: FunctionVersion) -> bool:
        return (self.code_sha256, self.layer_arns, self.settings) == (
            other.code_sha256,
            other.layer_arns,
            other.settings,
        )


@dataclass(frozen=True)
class AliasState:
    name: str
    function_version: str
    revision_id: str | None
    # Version -> weight of traffic it gets besides function_version (a rollout under way).
    additional_weights: tuple[tuple[str, float], ...] = ()

    @property
    def versions(self) -> set[str]:
        """Every version it sends traffic to."""
        return {self.function_version, *(version for version, _ in self.additional_weights)}


@dataclass(frozen=True)
class Code:
    """Where Lambda should take a zip from: its bytes, or an S3 object."""

    zip_bytes: bytes | None = None
    s3_bucket: str | None = None
    s3_key: str | None = None

    def as_request(self) -> dict[str, Any]:
        if self.zip_bytes is not None:
            return {"ZipFile": self.zip_bytes}
        return {"S3Bucket": self.s3_bucket, "S3Key": self.s3_key}


def make_clients(
    region: str, endpoint_url: str | None = None, credentials: dict[str, str] | None = None
) -> Aws:
    session = boto3.session.Session(region_name=region, **(credentials or {}))
    return Aws(
        lambda_client=session.client("lambda", endpoint_url=endpoint_url, config=RETRYING),
        s3_client=session.client("s3", endpoint_url=endpoint_url, config=RETRYING),
        iam_client=session.client("iam", endpoint_url=endpoint_url, config=RETRYING),
        region=region,
        sts_client=session.client("sts", endpoint_url=endpoint_url, config=RETRYING),
        cloudwatch_client=session.client("cloudwatch", endpoint_url=endpoint_url, config=RETRYING),
    )


class Aws:
    def __init__(
        self,
        lambda_client: Any,
        s3_client: Any,
        iam_client: Any,
        region: str,
        sts_client: Any = None,
        cloudwatch_client: Any = None,
    ) -> None:
        self.lambda_client = lambda_client
        self.s3 = s3_client
        self.iam = iam_client
        self.sts = sts_client
        self.cloudwatch = cloudwatch_client
        self.region = region

    def alarm_states(self, names: tuple[str, ...]) -> dict[str, str]:
        """Each named CloudWatch alarm's state (OK, ALARM, INSUFFICIENT_DATA); a missing one is absent."""
        states: dict[str, str] = {}
        for start in range(0, len(names), 100):  # DescribeAlarms takes up to 100 names
            found = self.cloudwatch.describe_alarms(AlarmNames=list(names[start : start + 100]))
            states.update((alarm["AlarmName"], alarm["StateValue"]) for alarm in found["MetricAlarms"])
        return states

    def account_id(self) -> str:
        """The AWS account the credentials belong to (STS needs no permission for this)."""
        return self.sts.get_caller_identity()["Account"]

    # --- Layers ---------------------------------------------------------------------------

    def layer_versions(self, layer_name: str) -> list[LayerVersion]:
        """Every version of a layer, newest first, with its `CodeSha256`.

        ListLayerVersions does not say what each version holds, so each one is read with
        GetLayerVersion: one call per version, the price of finding any version with the same
        bytes (not only the latest), which is what keeps concurrent deploys from duplicating.
        """
        numbers = [
            item["Version"]
            for page in self.lambda_client.get_paginator("list_layer_versions").paginate(LayerName=layer_name)
            for item in page["LayerVersions"]
        ]
        versions = []
        for number in sorted(numbers, reverse=True):
            try:
                found = self.lambda_client.get_layer_version(LayerName=layer_name, VersionNumber=number)
            except self.lambda_client.exceptions.ResourceNotFoundException:
                continue  # deleted since it was listed
            content = found["Content"]
            versions.append(
                LayerVersion(
                    found["LayerVersionArn"],
                    found["Version"],
                    content["CodeSha256"],
                    content.get("CodeSize", 0),
                )
            )
        return versions

    def publish_layer_version(self, layer: LayerConfig, code: Code) -> LayerVersion:
        """The version published, with the `CodeSha256` of the bytes Lambda received."""
        published = self.lambda_client.publish_layer_version(
            LayerName=layer.name,
            Description=layer.description,
            Content=code.as_request(),
            CompatibleRuntimes=list(layer.compatible_runtimes),
            CompatibleArchitectures=list(layer.compatible_architectures),
        )
        return LayerVersion(
            published["LayerVersionArn"], published["Version"], published["Content"]["CodeSha256"]
        )

    # --- Functions ------------------------------------------------------------------------

    def function(self, name: str) -> FunctionState | None:
        try:
            configuration = self.lambda_client.get_function(FunctionName=name)["Configuration"]
        except self.lambda_client.exceptions.ResourceNotFoundException:
            return None
        return _function_state(name, configuration)

    def update_function_code(self, state: FunctionState, code: Code) -> FunctionState:
        """Returns the function as Lambda reports it, with the `CodeSha256` of the bytes it got."""
        revision = {"RevisionId": state.revision_id} if state.revision_id else {}
        configuration = self.lambda_client.update_function_code(
            FunctionName=state.name, **code.as_request(), **revision
        )
        self.wait_until_updated(state.name)
        return _function_state(state.name, configuration)

    def update_function_snapstart(self, state: FunctionState, enabled: bool) -> FunctionState:
        revision = {"RevisionId": state.revision_id} if state.revision_id else {}
        configuration = self.lambda_client.update_function_configuration(
            FunctionName=state.name,
            SnapStart={"ApplyOn": "PublishedVersions" if enabled else "None"},
            **revision,
        )
        self.wait_until_updated(state.name)
        return _function_state(state.name, configuration)

    def update_function_layers(self, state: FunctionState, layer_arns: list[str]) -> FunctionState:
        revision = {"RevisionId": state.revision_id} if state.revision_id else {}
        configuration = self.lambda_client.update_function_configuration(
            FunctionName=state.name, Layers=layer_arns, **revision
        )
        self.wait_until_updated(state.name)
        return _function_state(state.name, configuration)

    def create_function(
        self,
        function: FunctionConfig,
        code: Code,
        layer_arns: list[str],
        role_arn: str,
        memory_mb: int,
        timeout_seconds: int,
    ) -> FunctionState:
        configuration = self.lambda_client.create_function(
            FunctionName=function.name,
            Runtime=function.runtime,
            Architectures=[function.architecture],
            Handler=function.handler,
            Role=role_arn,
            Code=code.as_request(),
            Layers=layer_arns,
            MemorySize=memory_mb,
            Timeout=timeout_seconds,
        )
        # A new function is `Pending` until Lambda has set it up; it takes no update till then.
        self.wait_for("function_active_v2", function.name)
        return _function_state(function.name, configuration)

    def function_versions(self, name: str) -> list[FunctionVersion]:
        """`$LATEST`, then every published version of the function, oldest first."""
        found = [
            _function_version(item)
            for page in self.lambda_client.get_paginator("list_versions_by_function").paginate(
                FunctionName=name
            )
            for item in page["Versions"]
        ]
        return sorted(found, key=lambda v: -1 if v.version == "$LATEST" else int(v.version))

    def publish_version(self, state: FunctionState) -> FunctionVersion:
        """Publishes `$LATEST` as it is in `state`: Lambda refuses if its code changed since
        (CodeSha256) or anything else did (RevisionId), and returns the latest version instead of
        a new one if nothing changed since it was published."""
        revision = {"RevisionId": state.revision_id} if state.revision_id else {}
        published = self.lambda_client.publish_version(
            FunctionName=state.name, CodeSha256=state.code_sha256, **revision
        )
        return _function_version(published)

    def alias(self, name: str, alias: str) -> AliasState | None:
        try:
            found = self.lambda_client.get_alias(FunctionName=name, Name=alias)
        except self.lambda_client.exceptions.ResourceNotFoundException:
            return None
        return _alias_state(found)

    def aliases(self, name: str) -> list[AliasState]:
        """Every alias of the function, ours or not."""
        return [
            _alias_state(item)
            for page in self.lambda_client.get_paginator("list_aliases").paginate(FunctionName=name)
            for item in page["Aliases"]
        ]

    def delete_function_version(self, name: str, version: str) -> None:
        assert version.isdigit(), "only a published version is ever deleted, never the function"
        self.lambda_client.delete_function(FunctionName=name, Qualifier=version)

    def delete_layer_version(self, name: str, version: int) -> None:
        self.lambda_client.delete_layer_version(LayerName=name, VersionNumber=version)

    def weigh_alias(self, current: AliasState, function: str, version: str, weight: float) -> AliasState:
        """Keeps the alias on its version and sends `weight` of its traffic to `version`."""
        revision = {"RevisionId": current.revision_id} if current.revision_id else {}
        updated = self.lambda_client.update_alias(
            FunctionName=function,
            Name=current.name,
            FunctionVersion=current.function_version,
            RoutingConfig={"AdditionalVersionWeights": {version: weight}},
            **revision,
        )
        return _alias_state(updated)

    def point_alias(self, name: str, alias: str, version: str, current: AliasState | None) -> AliasState:
        """Moves the alias to `version` with all of its traffic, or creates it there. Guarded by
        the alias' RevisionId: a move someone else made since `current` was read is refused."""
        if current is None:
            created = self.lambda_client.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)
            return _alias_state(created)
        revision = {"RevisionId": current.revision_id} if current.revision_id else {}
        updated = self.lambda_client.update_alias(
            FunctionName=name,
            Name=alias,
            FunctionVersion=version,
            RoutingConfig={"AdditionalVersionWeights": {}},
            **revision,
        )
        return _alias_state(updated)

    def wait_until_updated(self, name: str) -> None:
        # Lambda refuses a second update while one is `InProgress` (409 ResourceConflictException),
        # and a function is not running its new code or layers until then: wait it out after each.
        self.wait_for("function_updated_v2", name)

    def wait_for(self, waiter: str, name: str) -> None:
        """botocore's `waiter` for function `name`, polling every WAIT_POLL_SECONDS."""
        self.lambda_client.get_waiter(waiter).wait(
            FunctionName=name,
            WaiterConfig={
                "Delay": WAIT_POLL_SECONDS,
                "MaxAttempts": max(1, round(WAIT_TIMEOUT_SECONDS / WAIT_POLL_SECONDS)),
            },
        )

    # --- S3 -------------------------------------------------------------------------------

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self.s3.head_bucket(Bucket=bucket)
            return True
        except self.s3.exceptions.ClientError as e:
            if e.response["Error"]["Code"] in ("404", "NoSuchBucket"):
                return False
            raise

    def create_bucket(self, bucket: str) -> None:
        location = (
            {}
            if self.region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
        )
        self.s3.create_bucket(Bucket=bucket, **location)

    def object_size(self, bucket: str, key: str) -> int | None:
        try:
            return self.s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
        except self.s3.exceptions.ClientError as e:
            if e.response["Error"]["Code"] in ("404", "NoSuchKey"):
                return None
            raise

    def upload(self, bucket: str, key: str, content: bytes, code_sha256: str) -> None:
        # S3 checks the bytes it receives against this SHA-256 and refuses them if they differ.
        self.s3.put_object(Bucket=bucket, Key=key, Body=content, ChecksumSHA256=code_sha256)

    def put_object(self, bucket: str, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        return [
            item["Key"]
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]

    def read_object(self, bucket: str, key: str) -> bytes | None:
        try:
            return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None

    # --- IAM (local emulator only) ---------------------------------------------------------
    def ensure_role(self, role_name: str) -> str:
        try:
            return self.iam.get_role(RoleName=role_name)["Role"]["Arn"]
        except self.iam.exceptions.NoSuchEntityException:
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
            created = self.iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))
            return created["Role"]["Arn"]


def _function_state(name: str, configuration: dict[str, Any]) -> FunctionState:
    return FunctionState(
        name=name,
        code_sha256=configuration["CodeSha256"],
        layer_arns=tuple(layer["Arn"] for layer in configuration.get("Layers", [])),
        revision_id=configuration.get("RevisionId"),
        last_modified=configuration.get("LastModified", ""),
        runtime=configuration.get("Runtime"),
        architecture=(configuration.get("Architectures") or ["x86_64"])[0],
        snapstart=_snapstart(configuration),
    )


def _snapstart(configuration: dict[str, Any]) -> bool:
    return (configuration.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions"


def _function_version(configuration: dict[str, Any]) -> FunctionVersion:
    settings: dict[str, Any] = {key: configuration.get(key) for key in VERSIONED_SETTINGS}
    # A version has its own snapshot state (OptimizationStatus); what it shares with $LATEST is ApplyOn.
    settings["SnapStart"] = _snapstart(configuration)
    return FunctionVersion(
        version=configuration["Version"],
        code_sha256=configuration["CodeSha256"],
        layer_arns=tuple(layer["Arn"] for layer in configuration.get("Layers", [])),
        settings=json.dumps(settings, sort_keys=True),
        code_size=configuration.get("CodeSize", 0),
    )


def _alias_state(found: dict[str, Any]) -> AliasState:
    weights = (found.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return AliasState(
        name=found["Name"],
        function_version=found["FunctionVersion"],
        revision_id=found.get("RevisionId"),
        additional_weights=tuple(sorted(weights.items())),
    )
